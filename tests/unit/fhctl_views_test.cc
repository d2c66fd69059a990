// fhctl's live views of a region (tail, stats, top), run as a user would
// against fhd replaying the real captures: tail --from-oldest prints exactly
// the records of the ring, in order, with the fields of the file's messages;
// stats shows the daemon's exact counters; top lists the busiest books; a
// missing region, a closed output and SIGTERM end them cleanly.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "shm/consumer.h"

namespace {

using fh::test::Run;
using fh::test::TempDir;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The value of a key in one of fhctl's flat JSON lines: a string's contents
// or a number as written. Keys are unique in those lines.
std::string field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  size_t p = line.find(k);
  if (p == std::string::npos) return "<no " + key + ">";
  p += k.size();
  if (line[p] == '"') return line.substr(p + 1, line.find('"', p + 1) - p - 1);
  return line.substr(p, line.find_first_of(",}", p) - p);
}

// An ITCH Price(4) as the exact decimal fhctl prints: 53167 -> "5.3167".
std::string decimal4(const std::string& itch) {
  const uint64_t v = std::stoull(itch);
  std::string s = std::to_string(v / 10000);
  std::string frac = std::to_string(v % 10000);
  frac.insert(0, 4 - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? s : s + "." + frac;
}

// A region made by fhd from a whole capture, its writer stopped.
struct Replayed {
  TempDir dir;
  std::string name = "views";
  std::vector<std::string> region() const { return {"--shm", name, "--shm-dir", dir.str()}; }
};

void replay(const Replayed& r, const std::string& file) {
  const Run fhd = fh::test::run("fhd", {"--replay", file, "--shm", r.name, "--shm-dir", r.dir.str(), "--exit-when-done",
                                        "--trading-date", "2019-12-30", "--ring-mib", "16", "--max-orders", "65536",
                                        "--max-levels", "262144", "--log-level", "warn"});
  REQUIRE(fhd.exited);
  REQUIRE(fhd.exitCode == 0);
}

Run fhctl(const std::string& command, const Replayed& r, std::vector<std::string> args) {
  std::vector<std::string> all{command};
  const auto region = r.region();
  all.insert(all.end(), region.begin(), region.end());
  all.insert(all.end(), args.begin(), args.end());
  return fh::test::run("fhctl", all);
}

// What a consumer of the C++ API reads from the oldest record on.
struct RingRecord {
  std::string rtype;
  uint32_t instrumentId;
  uint64_t tsEvent;
  uint64_t orderId;  // mbo only
};
std::vector<RingRecord> ringRecords(const Replayed& r) {
  fh::shm::Consumer::Options options;
  options.directory = r.dir.str();
  options.start = fh::shm::StartAt::Oldest;
  fh::shm::Consumer consumer(r.name, options);
  std::vector<RingRecord> out;
  while (consumer
             .poll([&](const fh::shm::Tick& t) {
               const auto* m = t.mbo();
               out.push_back({m          ? "mbo"
                              : t.mbp1() ? "mbp-1"
                                         : "status",
                              t.header->instrumentId, t.header->tsEvent, m ? m->orderId : 0});
             })
             .records > 0) {
  }
  return out;
}

// Runs fhctl with stdout into a pipe whose reading end is already closed.
Run fhctlIntoClosedPipe(const std::vector<std::string>& args) {
  TempDir dir;
  const std::string program = fh::test::binary("fhctl");
  std::vector<std::string> argvStrings{program};
  argvStrings.insert(argvStrings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argvStrings) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const std::string errPath = (dir.path() / "stderr").string();
  posix_spawn_file_actions_t actions;
  REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) == 0);
  REQUIRE(posix_spawn_file_actions_adddup2(&actions, fds[1], 1) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600) == 0);
  ::close(fds[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  REQUIRE(spawned == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  Run r;
  r.exited = WIFEXITED(status);
  r.exitCode = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  r.err = fh::test::readFile(errPath);
  return r;
}

// Waits (bounded, for a slow machine) until a file contains `text`.
bool waitForText(const std::filesystem::path& path, const std::string& text) {
  for (int i = 0; i < 3000; ++i) {
    if (fh::test::readFile(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

struct Capture {
  std::string file;
  uint64_t messages;
  uint64_t unknownOrders;
};

}  // namespace

TEST_CASE("fhctl: tail --from-oldest --json prints exactly the records of the ring, stats counts them", "[fhctl]") {
  const Capture captures[] = {{"bx_sample_20191230.NASDAQ_ITCH50", 12012, 117}, {"elk_nasdaq.pcap", 2232, 1102}};
  for (const Capture& c : captures) {
    INFO("capture " << c.file);
    Replayed r;
    const std::string file = fh::test::testdata(c.file);
    replay(r, file);

    const Run stats = fhctl("stats", r, {"--json"});
    REQUIRE(stats.exitCode == 0);
    CHECK(stats.err.empty());
    REQUIRE(lines(stats.out).size() == 1);
    const std::string& s = stats.out;
    CHECK(field(s, "messages") == std::to_string(c.messages));
    CHECK(field(s, "book.unknown_order") == std::to_string(c.unknownOrders));
    CHECK(field(s, "messages.unknown_type") == "0");
    CHECK(field(s, "state") == "stopped");
    CHECK(field(s, "source") == "done");
    CHECK(field(s, "ring_bytes") == std::to_string(16u << 20));
    CHECK(field(s, "depth") == "10");
    const std::string records = field(s, "ring.records");
    CHECK(field(s, "records") == records);
    const uint64_t count = std::stoull(records);
    REQUIRE(count > c.messages / 2);

    // Every record, in the order and with the contents the C++ API reads.
    const Run tail = fhctl("tail", r, {"--from-oldest", "--json", "--count", records});
    REQUIRE(tail.exited);
    CHECK(tail.exitCode == 0);
    CHECK(tail.err.empty());
    const std::vector<std::string> got = lines(tail.out);
    const std::vector<RingRecord> want = ringRecords(r);
    REQUIRE(want.size() == count);
    REQUIRE(got.size() == count);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("line " << i + 1 << ": " << got[i]);
      REQUIRE(got[i].front() == '{');
      REQUIRE(got[i].back() == '}');
      REQUIRE(field(got[i], "rtype") == want[i].rtype);
      REQUIRE(field(got[i], "instrument_id") == std::to_string(want[i].instrumentId));
      REQUIRE(field(got[i], "ts_event") == std::to_string(want[i].tsEvent));
      if (want[i].rtype == "mbo") REQUIRE(field(got[i], "order_id") == std::to_string(want[i].orderId));
    }

    // The first add of the file, as fhctl decode shows it.
    const Run decode = fh::test::run("fhctl", {"decode", file});
    REQUIRE(decode.exitCode == 0);
    std::string add;
    for (const std::string& line : lines(decode.out))
      if (field(line, "type") == "A" || field(line, "type") == "F") {
        add = line;
        break;
      }
    REQUIRE(!add.empty());
    const auto firstMbo = std::find_if(got.begin(), got.end(), [](const std::string& l) {
      return field(l, "rtype") == "mbo" && field(l, "action") == "A";
    });
    REQUIRE(firstMbo != got.end());
    INFO("decode: " << add << "\ntail: " << *firstMbo);
    CHECK(field(*firstMbo, "instrument_id") == field(add, "locate"));
    CHECK(field(*firstMbo, "symbol") == field(add, "stock"));
    CHECK(field(*firstMbo, "order_id") == field(add, "order_ref"));
    CHECK(field(*firstMbo, "price") == decimal4(field(add, "price")));
    CHECK(field(*firstMbo, "size") == field(add, "shares"));
    CHECK(field(*firstMbo, "side") == field(add, "side"));
    CHECK(field(*firstMbo, "sequence") == field(add, "seq"));

    // One symbol: exactly its records.
    const std::string symbol = field(*firstMbo, "symbol");
    const auto ofSymbol = static_cast<size_t>(
        std::count_if(got.begin(), got.end(), [&](const std::string& l) { return field(l, "symbol") == symbol; }));
    const Run one =
        fhctl("tail", r, {"--from-oldest", "--json", "--symbol", symbol, "--count", std::to_string(ofSymbol)});
    CHECK(one.exitCode == 0);
    const std::vector<std::string> oneLines = lines(one.out);
    CHECK(oneLines.size() == ofSymbol);
    for (const std::string& l : oneLines) CHECK(field(l, "symbol") == symbol);

    // Text for people: one line per record, the same count.
    const Run text = fhctl("tail", r, {"--from-oldest", "--count", records});
    CHECK(text.exitCode == 0);
    CHECK(lines(text.out).size() == count);
  }
}

TEST_CASE("fhctl: stats in text aligns the counters under the writer's header", "[fhctl]") {
  Replayed r;
  replay(r, fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50"));
  const Run stats = fhctl("stats", r, {});
  REQUIRE(stats.exitCode == 0);
  CHECK(stats.out.find("region     " + r.dir.str() + "/views\n") != std::string::npos);
  CHECK(stats.out.find(", stopped, generation ") != std::string::npos);
  CHECK(stats.out.find("source     done\n") != std::string::npos);
  std::map<std::string, std::string> counters;
  size_t equalsColumn = 0;
  for (const std::string& line : lines(stats.out)) {
    const size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    if (equalsColumn == 0) equalsColumn = eq;
    CHECK(eq == equalsColumn);
    const std::string name = line.substr(0, line.find(' '));
    std::string value = line.substr(eq + 3);
    value.erase(0, value.find_first_not_of(' '));
    counters[name] = value;
  }
  CHECK(counters["messages"] == "12012");
  CHECK(counters["book.unknown_order"] == "117");
  CHECK(counters["book.live_orders"] == "3204");
}

TEST_CASE("fhctl: top shows the busiest books first, in plain frames without a terminal", "[fhctl]") {
  Replayed r;
  replay(r, fh::test::testdata("elk_nasdaq.pcap"));

  // The expectation: with no ticks in the interval (the writer has stopped),
  // the books with the most updates, ties by symbol.
  fh::shm::Consumer::Options options;
  options.directory = r.dir.str();
  fh::shm::Consumer consumer(r.name, options);
  std::vector<std::pair<uint64_t, std::string>> books;
  auto snapshot = std::make_unique<fh::shm::BookSnapshot>();
  for (const fh::shm::InstrumentInfo& in : consumer.instruments()) {
    REQUIRE(consumer.copyBook(in.locate, *snapshot) == fh::shm::CopyStatus::Ok);
    if (snapshot->fields.updates > 0) books.emplace_back(snapshot->fields.updates, in.symbol);
  }
  std::sort(books.begin(), books.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  REQUIRE(books.size() >= 5);

  const Run top = fhctl("top", r, {"--iterations", "2", "--interval", "0.1", "--count", "5"});
  REQUIRE(top.exited);
  CHECK(top.exitCode == 0);
  CHECK(top.err.empty());
  CHECK(top.out.find('\x1b') == std::string::npos);
  const std::vector<std::string> all = lines(top.out);
  // Two frames of 3 header lines and 5 books, a blank line between them.
  REQUIRE(all.size() == 2 * 8 + 1);
  CHECK(all[8].empty());
  for (size_t frame = 0; frame < 2; ++frame) {
    const size_t at = frame * 9;
    CHECK(all[at].rfind("fhctl top  " + r.dir.str() + "/views  ", 0) == 0);
    CHECK(all[at].find("writer stopped") != std::string::npos);
    CHECK(all[at + 1].find(" live orders  " + std::to_string(books.size()) + " active books") != std::string::npos);
    CHECK(all[at + 2].rfind("SYMBOL", 0) == 0);
    for (size_t i = 0; i < 5; ++i) {
      const std::string& row = all[at + 3 + i];
      INFO(row);
      CHECK(row.substr(0, row.find(' ')) == books[i].second);
      const std::string updates = std::to_string(books[i].first);
      const size_t where = row.find(updates);
      REQUIRE(where != std::string::npos);
      CHECK(row[where - 1] == ' ');
      CHECK(row.compare(where + updates.size(), 2, "  ") == 0);
    }
  }
}

TEST_CASE("fhctl: tail follows a new writer under the same name, from its oldest record", "[fhctl]") {
  Replayed r;
  const std::string file = fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50");
  replay(r, file);
  const std::string records = field(fhctl("stats", r, {"--json"}).out, "ring.records");
  // Live on a stopped writer: nothing until a new one comes.
  std::vector<std::string> args{"tail"};
  for (const std::string& a : r.region()) args.push_back(a);
  for (const char* a : {"--count", records.c_str(), "--seconds", "120"}) args.push_back(a);
  TempDir out;
  const pid_t tail = fh::test::start("fhctl", args, out, "tail");
  const bool waiting = waitForText(out.path() / "tail.out", "-- the writer has stopped; waiting for a new one");
  replay(r, file);
  const Run got = fh::test::finish(tail, out, "tail");
  REQUIRE(waiting);
  CHECK(got.exitCode == 0);
  const std::vector<std::string> all = lines(got.out);
  REQUIRE(all.size() == std::stoull(records) + 2);
  CHECK(all[1].rfind("-- re-attached: a new writer (pid ", 0) == 0);
  CHECK(std::count_if(all.begin(), all.end(), [](const std::string& l) { return l.rfind("--", 0) == 0; }) == 2);
}

TEST_CASE("fhctl: tail ends cleanly on SIGTERM and on a closed output", "[fhctl]") {
  Replayed r;
  replay(r, fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50"));
  std::vector<std::string> args{"tail"};
  for (const std::string& a : r.region()) args.push_back(a);

  TempDir out;
  const pid_t tail = fh::test::start("fhctl", args, out, "tail");
  const bool waiting = waitForText(out.path() / "tail.out", "-- the writer has stopped");
  ::kill(tail, SIGTERM);
  const Run stopped = fh::test::finish(tail, out, "tail");
  REQUIRE(waiting);
  CHECK(stopped.exited);
  CHECK(stopped.exitCode == 0);

  // Far more than a pipe holds, into a pipe nobody reads: EPIPE ends it quietly.
  for (const bool json : {true, false}) {
    std::vector<std::string> all = args;
    all.push_back("--from-oldest");
    if (json) all.push_back("--json");
    for (const char* a : {"--count", "12000", "--seconds", "120"}) all.push_back(a);
    const Run closed = fhctlIntoClosedPipe(all);
    CHECK(closed.exited);
    CHECK(closed.exitCode == 0);
    CHECK(closed.err.empty());
  }
}

TEST_CASE("fhctl: tail, stats and top name a missing region and exit non-zero", "[fhctl]") {
  TempDir dir;
  const std::string missing = dir.str() + "/nothing-here";
  for (const char* command : {"tail", "stats", "top"}) {
    INFO(command);
    const Run r = fh::test::run("fhctl", {command, "--shm", "nothing-here", "--shm-dir", dir.str()});
    REQUIRE(r.exited);
    CHECK(r.exitCode == 1);
    CHECK(r.out.empty());
    CHECK(r.err.rfind(std::string("fhctl ") + command + ": " + missing + ": ", 0) == 0);
  }
  const std::vector<std::vector<std::string>> bad = {
      {"tail", "--count", "0"}, {"tail", "--seconds", "-1"}, {"stats", "--watch", "0"}, {"top", "--iterations", "0"}};
  for (const auto& args : bad) {
    INFO(args[0] << " " << args[1]);
    const Run r = fh::test::run("fhctl", args);
    REQUIRE(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.err.find(args[1]) != std::string::npos);
  }
}
