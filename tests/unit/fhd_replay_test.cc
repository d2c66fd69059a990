// fhd --source file, end to end: every capture of ../shared/testdata/itch50
// replayed by the daemon into a region gives exactly the books that
// `fhctl book --from FILE` builds, and its tick ring carries every book event
// that an in-process BookBuilder makes of the same file, in order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "book/book_builder.h"
#include "capture/capture.h"
#include "feed/feed.h"
#include "feed/file_source.h"
#include "itch/decoder.h"
#include "process.h"
#include "shm/consumer.h"
#include "shm/histogram.h"

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

// A counter of the region by name, which must exist.
uint64_t counterNamed(const fh::shm::Consumer& consumer, const std::string& name) {
  const auto i = consumer.findCounter(name);
  REQUIRE(i.has_value());
  return consumer.counter(*i);
}

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
  const Run fhd = fh::test::run(
      "fhd", {"--replay", file, "--shm", "c", "--shm-dir", dir.str(), "--exit-when-done", "--log-level", "warn"});
  REQUIRE(fhd.exitCode == 0);
  fh::shm::Consumer::Options options;
  options.directory = dir.str();
  fh::shm::Consumer consumer("c", options);
  const auto value = [&](const char* name) { return counterNamed(consumer, name); };
  // Totals verified independently in testdata_test.cc.
  CHECK(value("messages") == 12012);
  CHECK(value("messages.unknown_type") == 0);
  CHECK(value("book.unknown_order") == 117);
  CHECK(value("book.live_orders") == 3204);
  CHECK(value("packets") == 0);                                                       // a BinaryFILE has no packets
  CHECK(consumer.counterCount() > static_cast<uint32_t>(fh::feed::Counter::kCount));  // then the source's
  CHECK(value("line_a.packets") == 0);
  CHECK(consumer.counterName(0) == "messages");
}

TEST_CASE("fhd: a replay's stores as --huge-pages and --numa-node ask, its worker on --cpu, as the region says",
          "[fhd]") {
  TempDir dir;
  const std::string file = fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50");
  const Run fhd = fh::test::run("fhd", {"--replay", file, "--shm", "m", "--shm-dir", dir.str(), "--exit-when-done",
                                        "--huge-pages", "off", "--numa-node", "0", "--cpu", "0"});
  INFO(fhd.err);
  REQUIRE(fhd.exitCode == 0);
  CHECK(fhd.err.find("worker on CPU 0") != std::string::npos);
  CHECK(fhd.err.find("asked for node 0 (memory.numa_node), 4 KiB pages") != std::string::npos);
  CHECK(fhd.err.find("book stores: ") != std::string::npos);
  fh::shm::Consumer::Options options;
  options.directory = dir.str();
  fh::shm::Consumer consumer("m", options);
  const auto value = [&](const char* name) { return counterNamed(consumer, name); };
  CHECK(value("memory.stores_bytes") >= 64u << 20);  // the default stores: 16M order slots of 16 bytes and more
  CHECK(value("memory.stores_huge_page_bytes") == 0);
  CHECK(value("memory.stores_off_node_bytes") == 0);
  CHECK(value("memory.stores_node") == 0);
  CHECK(value("memory.umem_bytes") == 0);  // a file has no UMEM
}

TEST_CASE("fhd: a replay records each message's ts_recv - ts_event in the region's histogram", "[fhd][histogram]") {
  // The live capture of one line, at its own receive times: the expected
  // delays computed here from the capture, message by message.
  const std::string file = fh::test::testdata("elk_nasdaq.pcap");
  const int64_t midnight = fh::record::easternMidnightNs(2016, 9, 13);
  fh::shm::Histogram want;
  {
    const fh::capture::MappedFile mapped(file);
    struct Visitor {
      fh::shm::Histogram& h;
      int64_t midnight;
      void message(const fh::feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
        if (length < 11) return;
        uint64_t ts = 0;
        for (int i = 5; i < 11; ++i) ts = ts << 8 | msg[i];
        h.record(static_cast<int64_t>(meta.receivedNs) - (midnight + static_cast<int64_t>(ts)));
      }
      void malformedPacket(uint64_t, const fh::mold::PacketResult&) {}
    } visitor{want, midnight};
    fh::feed::FileSourceCounters counters;
    REQUIRE(fh::feed::replayFile(mapped.bytes(), {}, counters, visitor).ok());
  }
  REQUIRE(want.fields().count == 2232);

  TempDir dir;
  const Run fhd = fh::test::run("fhd", {"--replay", file, "--line-a", "233.54.12.111:26477", "--shm", "h", "--shm-dir",
                                        dir.str(), "--exit-when-done", "--trading-date", "2016-09-13", "--ring-mib",
                                        "16", "--max-orders", "65536", "--max-levels", "65536", "--log-level", "warn"});
  REQUIRE(fhd.exitCode == 0);
  fh::shm::Consumer::Options options;
  options.directory = dir.str();
  const fh::shm::Consumer consumer("h", options);
  REQUIRE(consumer.histogramCount() == 2);
  CHECK(consumer.histogramName(0) == "latency.feed_to_receive_ns");
  CHECK(consumer.histogramName(1) == "latency.receive_to_publish_ns");
  auto got = std::make_unique<fh::shm::HistogramSnapshot>();
  REQUIRE(consumer.copyHistogram(0, *got) == fh::shm::CopyStatus::Ok);
  CHECK(got->fields.count == want.fields().count);
  CHECK(got->fields.negative == want.fields().negative);
  CHECK(got->fields.min == want.fields().min);
  CHECK(got->fields.max == want.fields().max);
  CHECK(got->fields.sum == want.fields().sum);
  CHECK(std::equal(got->buckets, got->buckets + fh::shm::kHistogramBuckets, want.buckets()));
  // A capture's receive times are not this host's clock: receive → publish is not measured.
  REQUIRE(consumer.copyHistogram(1, *got) == fh::shm::CopyStatus::Ok);
  CHECK(got->fields.count == 0);

  // fhctl stats shows the same, as quantiles and as buckets.
  const Run json = fh::test::run("fhctl", {"stats", "--shm", "h", "--shm-dir", dir.str(), "--json"});
  REQUIRE(json.exitCode == 0);
  CHECK(json.out.find("\"latency.feed_to_receive_ns\":{\"count\":2232,\"negative\":0,\"min\":" +
                      std::to_string(want.fields().min) + ",\"max\":" + std::to_string(want.fields().max)) !=
        std::string::npos);
  CHECK(json.out.find("\"p99\":" + std::to_string(fh::shm::histogramQuantile(want.fields(), want.buckets(), 0.99))) !=
        std::string::npos);
  const Run text = fh::test::run("fhctl", {"stats", "--shm", "h", "--shm-dir", dir.str()});
  REQUIRE(text.exitCode == 0);
  CHECK(text.out.find("latency.feed_to_receive_ns: 2232 values; p50 ") != std::string::npos);
  CHECK(text.out.find("latency.receive_to_publish_ns: 0 values") != std::string::npos);

  // The exporter's textfile: the same figures in Prometheus's format, buckets cumulative.
  const std::string prom = dir.str() + "/fh.prom";
  const Run exported = fh::test::run(
      "fhctl", {"exporter", "--shm", "h", "--shm", "missing", "--shm-dir", dir.str(), "--textfile", prom});
  REQUIRE(exported.exitCode == 0);
  CHECK(exported.err.find("missing") != std::string::npos);  // said once, and reported as down
  std::ifstream in(prom);
  std::map<std::string, std::string> samples;
  std::vector<double> buckets;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = line.substr(space + 1);
    if (line.rfind("fh_latency_feed_to_receive_seconds_bucket{", 0) == 0)
      buckets.push_back(std::stod(line.substr(space + 1)));
  }
  CHECK(samples["fh_up{feed=\"h\"}"] == "0");  // the replay is over, its writer stopped (up: veth prometheus)
  CHECK(samples.count("fh_up{feed=\"missing\"}") == 1);
  CHECK(samples["fh_up{feed=\"missing\"}"] == "0");
  CHECK(samples.count("fh_messages_total{feed=\"missing\"}") == 0);
  CHECK(samples["fh_messages_total{feed=\"h\"}"] == "2232");
  CHECK(samples["fh_line_packets_total{feed=\"h\",line=\"a\"}"] == "2036");
  CHECK(samples["fh_book_unknown_order_total{feed=\"h\"}"] == "1102");
  CHECK(samples["fh_source_state{feed=\"h\",state=\"done\"}"] == "1");
  CHECK(samples["fh_latency_feed_to_receive_seconds_count{feed=\"h\"}"] == "2232");
  CHECK(samples["fh_latency_feed_to_receive_seconds_bucket{feed=\"h\",le=\"+Inf\"}"] == "2232");
  CHECK(samples["fh_latency_receive_to_publish_seconds_count{feed=\"h\"}"] == "0");
  REQUIRE(buckets.size() == 54);  // 2^8 .. 2^34 ns, and the half-way edges, and +Inf
  CHECK(std::is_sorted(buckets.begin(), buckets.end()));
  // Every value is between 2^20 and 1.5 * 2^20 ns (min and max above): the le edges each side of them.
  CHECK(samples["fh_latency_feed_to_receive_seconds_bucket{feed=\"h\",le=\"0.001048576\"}"] == "0");
  CHECK(samples["fh_latency_feed_to_receive_seconds_bucket{feed=\"h\",le=\"0.001572864\"}"] == "2232");
  const Run badListen =
      fh::test::run("fhctl", {"exporter", "--shm", "h", "--shm-dir", dir.str(), "--listen", "nowhere"});
  CHECK(badListen.exitCode != 0);
  CHECK(badListen.err.find("--listen") != std::string::npos);
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
      {{"--replay", good, "--shm-dir", dir.str(), "--ring-mib", "3"}, "--ring-mib"},
      {{"--replay", good, "--shm-dir", dir.str(), "--trading-date", "2019-13-01"}, "--trading-date"},
      {{"--replay", good, "--shm-dir", dir.str(), "--shm-group", "no-such-group-fh"}, "shm.group"},
      {{"--replay", good, "--source", "carrier-pigeon"}, "--source"},
      {{"--replay", good, "--shm-dir", dir.str(), "--numa-node", "near"}, "--numa-node"},
      {{"--replay", good, "--shm-dir", dir.str(), "--numa-node", "1000"}, "memory.numa_node: node 1000 does not exist"},
      {{"--replay", good, "--shm-dir", dir.str(), "--huge-pages", "always"}, "--huge-pages"},
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

TEST_CASE("fhd: a capture of both lines, named, is sequenced as live: every message once", "[fhd]") {
  TempDir dir;
  const std::string bx = fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50");
  const std::string two = (dir.path() / "two.pcap").string();
  const std::vector<std::string> lines = {
      "--group-a", "239.1.1.1", "--port-a", "26400",          "--group-b", "239.1.1.2",           "--port-b",
      "26401",     "--file",    bx,         "--dry-run-pcap", two,         "--dry-run-both-lines"};
  const auto publish = [&](std::vector<std::string> faults) {
    std::vector<std::string> args = {"publish"};
    args.insert(args.end(), lines.begin(), lines.end());
    args.insert(args.end(), faults.begin(), faults.end());
    const Run r = fh::test::run("fhsim", args);
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
  };
  const auto replay = [&](const std::string& name, bool named) {
    std::vector<std::string> args = {
        "--replay",       two,          "--shm",      name, "--shm-dir",    dir.str(), "--exit-when-done",
        "--trading-date", "2019-12-30", "--ring-mib", "16", "--max-orders", "65536",   "--max-levels",
        "262144"};
    if (named) args.insert(args.end(), {"--line-a", "239.1.1.1:26400", "--line-b", "239.1.1.2:26401"});
    const Run r = fh::test::run("fhd", args);
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    return r;
  };
  const auto counterOf = [&](const std::string& name) {
    return [&dir, name](const char* counter) {
      fh::shm::Consumer::Options options;
      options.directory = dir.str();
      fh::shm::Consumer consumer(name, options);
      return counterNamed(consumer, counter);
    };
  };

  SECTION("each line loses, reorders or repeats packets the other has: the books and ticks of the day") {
    publish({"--drop-a", "3", "--reorder-a", "4", "--duplicate-b", "10", "--b-delay-us", "100"});
    replay("two", true);
    auto c = counterOf("two");
    CHECK(c("line_a.packets") > 0);
    CHECK(c("line_b.packets") > 0);
    CHECK(c("arbiter.duplicates") > 0);
    CHECK(c("arbiter.filled") > 0);
    CHECK(c("arbiter.gaps") == 0);
    CHECK(c("messages") == 12012);
    CHECK(c("line_a.applied") + c("line_b.applied") == 12012);
    CHECK(c("line_a.messages") + c("line_b.messages") ==
          12012 + c("line_a.duplicates") + c("line_b.duplicates") + c("line_a.late") + c("line_b.late"));
    const Run fromFile = fh::test::run("fhctl", {"book", "--from", bx, "--json", "--depth", "10"});
    const Run fromRegion = fh::test::run("fhctl", {"book", "--shm", "two", "--shm-dir", dir.str(), "--json"});
    CHECK(fromRegion.out == fromFile.out);
    // fhctl sequences the capture's lines the same way.
    const Run fromLines = fh::test::run("fhctl", {"book", "--from", two, "--line-a", "239.1.1.1:26400", "--line-b",
                                                  "239.1.1.2:26401", "--json", "--depth", "10"});
    CHECK(fromLines.exitCode == 0);
    CHECK(fromLines.err.empty());
    CHECK(fromLines.out == fromFile.out);
    // Every tick of the day, once and in order (receive times aside: the capture's, not the file's none).
    bool binaryFile = false;
    const Collected want = expected(bx, fh::record::easternMidnightNs(2019, 12, 30), binaryFile);
    fh::shm::Consumer::Options options;
    options.directory = dir.str();
    options.start = fh::shm::StartAt::Oldest;
    fh::shm::Consumer consumer("two", options);
    Collected got;
    for (;;) {
      const fh::shm::PollResult r = consumer.poll([&](const fh::shm::Tick& t) {
        if (const auto* m = t.mbo()) {
          auto copy = *m;
          copy.tsRecv = 0;
          got.records.push_back(bytesOf(&copy, sizeof copy));
        } else if (const auto* p = t.mbp1()) {
          auto copy = *p;
          copy.tsRecv = 0;
          got.records.push_back(bytesOf(&copy, sizeof copy));
        }
      });
      if (r.records == 0) break;
    }
    CHECK(got.records == want.records);
  }
  SECTION("both lines lose the same packets: counted gaps, stale books, and the replay goes on") {
    publish({"--drop-both", "50"});
    replay("gaps", true);
    auto c = counterOf("gaps");
    CHECK(c("arbiter.gaps") == 6);
    CHECK(c("arbiter.gap_messages") == 219);
    CHECK(c("messages") == 11793);
    CHECK(c("book.stale") > 0);
    const Run fromLines =
        fh::test::run("fhctl", {"book", "--from", two, "--line-a", "239.1.1.1:26400", "--line-b", "239.1.1.2:26401"});
    CHECK(fromLines.err.find("the books are incomplete: 219 messages missing on every line") != std::string::npos);
  }
  SECTION("unnamed, both lines' packets are applied each time: fhd says so") {
    publish({});
    const Run r = replay("unnamed", false);
    CHECK(r.err.find("12012 messages came with a sequence number already replayed") != std::string::npos);
    CHECK(counterOf("unnamed")("book.duplicate_order") > 0);
  }
}
