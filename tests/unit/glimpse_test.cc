// fhsim's GLIMPSE server and fhctl glimpse, end to end on loopback: a
// snapshot taken while a day is published equals the books of the day up to
// the sequence before End of Snapshot's; the faults (a rejected login, a
// snapshot cut off, a stalled one) come in order and are counted; the
// client names each outcome.
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "process.h"

using fh::test::finish;
using fh::test::run;
using fh::test::start;
using fh::test::TempDir;

namespace {

// The End of Snapshot sequence fhctl glimpse printed.
uint64_t takeOverSequence(const std::string& out) {
  const std::string key = "takes over at sequence ";
  const size_t at = out.find(key);
  REQUIRE(at != std::string::npos);
  return std::stoull(out.substr(at + key.size()));
}

}  // namespace

TEST_CASE("glimpse: fhsim serves the day as published, with its faults in order, fhctl glimpse fetches it",
          "[glimpse][fhsim]") {
  TempDir dir;
  const std::string day = (dir.path() / "day.itch").string();
  REQUIRE(run("fhsim", {"generate", "--messages", "30000", "--symbols", "20", "--seed", "5", "--out", day}).exitCode ==
          0);
  // A port of this process's own on loopback.
  const std::string server = "127.0.0.1:" + std::to_string(20000 + ::getpid() % 20000);
  const pid_t publisher = start("fhsim",
                                {"publish",
                                 "--file",
                                 day,
                                 "--dry-run-pcap",
                                 (dir.path() / "out.pcap").string(),
                                 "--group-a",
                                 "239.1.1.1",
                                 "--port-a",
                                 "26400",
                                 "--rate",
                                 "6000",
                                 "--glimpse-listen",
                                 server,
                                 "--glimpse-reject-first",
                                 "1",
                                 "--glimpse-close-first",
                                 "1",
                                 "--glimpse-stall-first",
                                 "1",
                                 "--linger-ms",
                                 "2000"},
                                dir, "publish");
  const auto fetch = [&](const std::string& out, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"glimpse", "--server", server, "--out", out, "--timeout-ms", "1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    fh::test::Run r = run("fhctl", args);
    for (int tries = 0; tries < 50 && r.err.find("no connection") != std::string::npos; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server is not listening yet
      r = run("fhctl", args);
    }
    return r;
  };
  const auto snapshotMatchesDay = [&](const std::string& snapshot, uint64_t next) {
    const fh::test::Run fromSnapshot = run("fhctl", {"book", "--from", snapshot, "--json", "--depth", "0"});
    const fh::test::Run fromDay =
        run("fhctl", {"book", "--from", day, "--until", std::to_string(next - 1), "--json", "--depth", "0"});
    REQUIRE(fromSnapshot.exitCode == 0);
    REQUIRE(fromDay.exitCode == 0);
    REQUIRE_FALSE(fromDay.out.empty());
    REQUIRE(fromSnapshot.out == fromDay.out);
  };

  const fh::test::Run rejected = fetch((dir.path() / "1.itch").string());
  INFO(rejected.err);
  CHECK(rejected.exitCode == 1);
  CHECK(rejected.err.find("login rejected (not authorized)") != std::string::npos);
  const fh::test::Run cut = fetch((dir.path() / "2.itch").string());
  CHECK(cut.exitCode == 1);
  CHECK(cut.err.find("connection closed after") != std::string::npos);
  const fh::test::Run stalled = fetch((dir.path() / "3.itch").string());
  CHECK(stalled.exitCode == 1);
  CHECK(stalled.err.find("nothing for 1000 ms") != std::string::npos);
  const fh::test::Run badPassword = fetch((dir.path() / "4.itch").string(), {"--password", "wrong"});
  CHECK(badPassword.exitCode == 1);
  CHECK(badPassword.err.find("not authorized") != std::string::npos);
  const fh::test::Run badSession = fetch((dir.path() / "5.itch").string(), {"--session", "OTHER"});
  CHECK(badSession.exitCode == 1);
  CHECK(badSession.err.find("session not available") != std::string::npos);

  const std::string first = (dir.path() / "6.itch").string();
  const fh::test::Run served = fetch(first);
  INFO(served.err);
  REQUIRE(served.exitCode == 0);
  const uint64_t next = takeOverSequence(served.out);
  REQUIRE(next >= 1);
  REQUIRE(next <= 30001);
  snapshotMatchesDay(first, next);

  // Once the day is out (the server lingers), a snapshot covers all of it.
  uint64_t last = 0;
  for (int tries = 0; tries < 100 && last != 30001; ++tries) {
    const std::string again = (dir.path() / "7.itch").string();
    const fh::test::Run r = fetch(again);
    REQUIRE(r.exitCode == 0);
    last = takeOverSequence(r.out);
    REQUIRE(last >= next);
    snapshotMatchesDay(again, last);
    if (last != 30001) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(last == 30001);

  const fh::test::Run summary = finish(publisher, dir, "publish");
  INFO(summary.err);
  REQUIRE(summary.exitCode == 0);
  CHECK(summary.err.find("rejected;") != std::string::npos);
  CHECK(summary.err.find(", 1 cut off, 1 stalled;") != std::string::npos);
  CHECK(summary.err.find("3 rejected;") != std::string::npos);  // the fault, the password, the session
  CHECK(summary.err.find("ending at sequence 30001") != std::string::npos);
}
