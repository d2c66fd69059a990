// fhd --source file, end to end: every capture of ../shared/testdata/itch50
// replayed by the daemon into a region gives exactly the books that
// `fhctl book --from FILE` builds, and its tick ring carries every book event
// that an in-process BookBuilder makes of the same file, in order.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "book/book_builder.h"
#include "capture/capture.h"
#include "feed/file_source.h"
#include "feed/feed.h"
#include "itch/decoder.h"
#include "process.h"
#include "shm/consumer.h"

namespace {

namespace fs = std::filesystem;
using fh::test::Run;
using fh::test::TempDir;

std::vector<std::string> captures() {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(fh::test::testdata("")))
    if (e.is_regular_file() && (e.path().extension() == ".pcap" || e.path().extension() == ".NASDAQ_ITCH50"))
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

// A record as compared: its bytes, with ts_recv zeroed for BinaryFILE sources
// (the daemon stamps those with its clock).
struct Collected {
  std::vector<std::vector<uint8_t>> records;
  size_t statuses = 0;
};

std::vector<uint8_t> bytesOf(const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  return {b, b + n};
}

struct CollectSink {
  Collected& out;
  bool zeroRecv;
  void mbo(fh::record::MboMsg m) {
    if (zeroRecv) m.tsRecv = 0;
    out.records.push_back(bytesOf(&m, sizeof m));
  }
  void mbp1(fh::record::Mbp1Msg m) {
    if (zeroRecv) m.tsRecv = 0;
    out.records.push_back(bytesOf(&m, sizeof m));
  }
};

// The expectation, built in this process the way the daemon must.
Collected expected(const std::string& file, int64_t midnight, bool& binaryFile) {
  const fh::capture::MappedFile mapped(file);
  binaryFile = fh::capture::detectFormat(mapped.bytes()) == fh::capture::Format::BinaryFile;
  Collected out;
  fh::book::OrderBooks books(fh::book::BookConfig{});
  CollectSink sink{out, binaryFile};
  fh::book::BookBuilder<CollectSink> builder(books, sink, midnight);
  struct Visitor {
    fh::book::BookBuilder<CollectSink>& builder;
    void message(const fh::feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
      builder.setContext(meta.sequence, meta.receivedNs);
      fh::itch::decode(msg, length, builder);
    }
    void malformedPacket(uint64_t, const fh::mold::PacketResult&) {}
  } visitor{builder};
  fh::feed::FileSourceCounters counters;
  REQUIRE(fh::feed::replayFile(mapped.bytes(), {}, counters, visitor).ok());
  return out;
}

}  // namespace

TEST_CASE("fhd: each capture replayed into a region gives the books and ticks of the file", "[fhd]") {
  const std::vector<std::string> files = captures();
  REQUIRE(files.size() >= 30);
  const int64_t midnight = fh::record::easternMidnightNs(2019, 12, 30);
  for (const std::string& file : files) {
    INFO("file " << file);
    TempDir dir;
    const Run fhd = fh::test::run("fhd", {"--replay", file, "--shm", "replay", "--shm-dir", dir.str(),
                                          "--exit-when-done", "--trading-date", "2019-12-30", "--ring-mib", "16",
                                          "--max-orders", "65536", "--max-levels", "262144", "--log-level", "warn"});
    REQUIRE(fhd.exited);
    REQUIRE(fhd.exitCode == 0);
    CHECK(fhd.err.empty());

    // The books: the daemon's region against a replay by fhctl, every level.
    const Run fromFile = fh::test::run("fhctl", {"book", "--from", file, "--json", "--depth", "10"});
    const Run fromRegion =
        fh::test::run("fhctl", {"book", "--shm", "replay", "--shm-dir", dir.str(), "--json", "--depth", "0"});
    REQUIRE(fromFile.exitCode == 0);
    REQUIRE(fromRegion.exitCode == 0);
    CHECK(fromRegion.out == fromFile.out);

    // The ticks: everything the daemon published, from the oldest record.
    fh::shm::Consumer::Options options;
    options.directory = dir.str();
    options.start = fh::shm::StartAt::Oldest;
    fh::shm::Consumer consumer("replay", options);
    CHECK(consumer.writerStatus() == fh::shm::WriterStatus::Stopped);
    CHECK(consumer.sourceState() == fh::shm::SourceState::Done);
    bool binaryFile = false;
    const Collected want = expected(file, midnight, binaryFile);
    Collected got;
    uint64_t nextIndex = 0;
    for (;;) {
      const fh::shm::PollResult r = consumer.poll([&](const fh::shm::Tick& t) {
        CHECK(t.index == nextIndex++);
        if (const auto* m = t.mbo()) {
          auto copy = *m;
          if (binaryFile) copy.tsRecv = 0;
          got.records.push_back(bytesOf(&copy, sizeof copy));
        } else if (const auto* p = t.mbp1()) {
          auto copy = *p;
          if (binaryFile) copy.tsRecv = 0;
          got.records.push_back(bytesOf(&copy, sizeof copy));
        } else {
          REQUIRE(t.status() != nullptr);
          ++got.statuses;
        }
      });
      CHECK(r.lost == 0);
      if (r.records == 0) break;
    }
    CHECK(got.records.size() == want.records.size());
    CHECK(got.records == want.records);
    const auto records = consumer.findCounter("ring.records");
    REQUIRE(records.has_value());
    CHECK(consumer.counter(*records) == nextIndex);
    CHECK(nextIndex == got.records.size() + got.statuses);
  }
}

TEST_CASE("fhd: counters of a replay", "[fhd]") {
  TempDir dir;
  const std::string file = fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50");
  const Run fhd = fh::test::run("fhd", {"--replay", file, "--shm", "c", "--shm-dir", dir.str(), "--exit-when-done",
                                        "--log-level", "warn"});
  REQUIRE(fhd.exitCode == 0);
  fh::shm::Consumer::Options options;
  options.directory = dir.str();
  fh::shm::Consumer consumer("c", options);
  const auto value = [&](const char* name) {
    const auto i = consumer.findCounter(name);
    REQUIRE(i.has_value());
    return consumer.counter(*i);
  };
  // Totals verified independently in testdata_test.cc.
  CHECK(value("messages") == 12012);
  CHECK(value("messages.unknown_type") == 0);
  CHECK(value("book.unknown_order") == 117);
  CHECK(value("book.live_orders") == 3204);
  CHECK(value("packets") == 0);  // a BinaryFILE has no packets
  CHECK(consumer.counterCount() > static_cast<uint32_t>(fh::feed::Counter::kCount));  // then the source's
  CHECK(value("line_a.packets") == 0);
  CHECK(consumer.counterName(0) == "messages");
}

TEST_CASE("fhd: bad input and bad options exit non-zero with a message naming them", "[fhd]") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const std::string good = fh::test::testdata("elk_nasdaq.pcap");
  const std::string missing = dir.str() + "/no-such-file.pcap";
  const std::vector<Case> cases = {
      {{"--replay", missing, "--shm-dir", dir.str()}, missing},
      {{"--replay", good, "--shm-dir", dir.str(), "--shm", "a/b"}, "shm.name"},
      {{"--replay", good, "--shm-dir", dir.str(), "--depth", "0"}, "shm.depth"},
      {{"--replay", good, "--shm-dir", dir.str(), "--ring-mib", "3"}, "shm.ring_bytes"},
      {{"--replay", good, "--shm-dir", dir.str(), "--trading-date", "2019-13-01"}, "--trading-date"},
      {{"--replay", good, "--shm-dir", dir.str(), "--shm-group", "no-such-group-fh"}, "shm.group"},
      {{"--replay", good, "--source", "carrier-pigeon"}, "--source"},
      {{"--shm-dir", dir.str()}, "--replay"},
      {{"--replay", good, "--shm-dir", dir.str() + "/missing-dir"}, "missing-dir"},
  };
  for (const Case& c : cases) {
    INFO("fhd " << c.args[0] << " ... expecting " << c.named);
    const Run r = fh::test::run("fhd", c.args);
    REQUIRE(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.err.find(c.named) != std::string::npos);
  }
}
