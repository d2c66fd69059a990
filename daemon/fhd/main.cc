// fhd: the feed handler daemon. Today's source is a capture file replayed
// through the same pipeline as the network sources (decode → books → shared
// memory), at full speed or at a given rate; the region then stays up, its
// books readable, until SIGTERM or SIGINT (or at once with --exit-when-done).
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "book/order_book.h"
#include "capture/capture.h"
#include "feed/file_source.h"
#include "feed/pipeline.h"
#include "record/record.h"
#include "shm/clock.h"
#include "shm/writer.h"
#include "util/notify.h"

namespace {

std::atomic<bool> gStop{false};

void onSignal(int) { gStop.store(true, std::memory_order_relaxed); }

struct Options {
  std::string source = "file";
  std::string replay;
  std::optional<uint16_t> port;
  double rate = 0;  // messages per second; 0: as fast as possible
  bool exitWhenDone = false;
  std::string tradingDate;  // YYYY-MM-DD; default: today in New York
  fh::shm::RegionConfig region;
  uint32_t ringMiB = 64;
  fh::book::BookConfig book;
  std::string logLevel = "info";
};

// Midnight in New York of the trading date, as UNIX nanoseconds.
int64_t tradingMidnight(const std::string& date) {
  if (!date.empty()) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (std::sscanf(date.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31 ||
        y < 1970 || y > 2200)
      throw CLI::ValidationError("--trading-date", "'" + date + "' is not a date YYYY-MM-DD");
    return fh::record::easternMidnightNs(y, m, d);
  }
  const time_t now = std::time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  int64_t midnight = fh::record::easternMidnightNs(utc.tm_year + 1900, unsigned(utc.tm_mon + 1), unsigned(utc.tm_mday));
  if (int64_t(now) * 1'000'000'000 < midnight) midnight -= 86'400'000'000'000;  // still yesterday in New York
  return midnight;
}

// Replays the file through the pipeline, keeping to `rate` messages/s if set.
class Replay {
 public:
  Replay(fh::feed::Pipeline& pipeline, const fh::feed::FileSourceCounters& source, double rate)
      : pipeline_(pipeline), source_(source), rate_(rate) {}

  void sync() {
    const auto& s = source_;
    pipeline_.setSourceCounters(s.packets, s.portFiltered + s.notIpv4 + s.fragments + s.notUdp + s.truncatedFrames +
                                               s.unknownLink);
    pipeline_.syncCounters();
  }

  void message(const fh::feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
    if (gStop.load(std::memory_order_relaxed)) return;
    pipeline_.message(meta.sequence, meta.fromPacket ? meta.receivedNs : fh::shm::realtimeNs(), msg, length);
    if ((++count_ & 1023) == 0) {
      sync();
      if (rate_ > 0) pace();
    }
  }
  void malformedPacket(uint64_t, const fh::mold::PacketResult&) {}

 private:
  void pace() {
    const auto due = start_ + std::chrono::duration<double>(double(count_) / rate_);
    std::this_thread::sleep_until(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
  }

  fh::feed::Pipeline& pipeline_;
  const fh::feed::FileSourceCounters& source_;
  double rate_;
  uint64_t count_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int run(Options& o) {
  o.region.ringBytes = uint64_t{o.ringMiB} << 20;
  o.region.counters = fh::feed::pipelineCounterNames();
  o.region.maxInstruments = o.book.maxInstruments;
  fh::shm::validate(o.region);
  const int64_t midnight = tradingMidnight(o.tradingDate);
  const fh::capture::MappedFile file(o.replay);  // throws, naming the file

  fh::book::OrderBooks books(o.book);
  fh::shm::RegionWriter writer(o.region);
  auto pipeline = std::make_unique<fh::feed::Pipeline>(books, writer, midnight);
  spdlog::info("region {} ready: {} instruments, depth {}, ring {} MiB, generation {:016x}", writer.path(),
               o.region.maxInstruments, o.region.depth, o.ringMiB, writer.header().generation);
  fh::notify("READY=1\nSTATUS=replaying " + o.replay);

  std::atomic<bool> beating{true};
  std::thread heart([&] {
    while (beating.load(std::memory_order_relaxed)) {
      writer.heartbeat();
      fh::notify("WATCHDOG=1");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  writer.setSourceState(fh::shm::SourceState::Running);
  fh::feed::FileSourceCounters sourceCounters;
  Replay replay(*pipeline, sourceCounters, o.rate);
  const auto t0 = std::chrono::steady_clock::now();
  const fh::feed::FileSourceResult result =
      fh::feed::replayFile(file.bytes(), fh::feed::FileSourceOptions{o.port}, sourceCounters, replay);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  replay.sync();
  int status = 0;
  if (!result.ok()) {
    spdlog::error("{}", result.describe(o.replay));
    writer.setSourceState(fh::shm::SourceState::Failed);
    status = 1;
  } else {
    writer.setSourceState(fh::shm::SourceState::Done);
    const auto& d = pipeline->decodeCounters();
    spdlog::info("replayed {}: {} messages in {:.3f} s, {} records, {} live orders; skipped {} unknown types, "
                 "{} wrong lengths, {} references to unknown orders",
                 o.replay, d.messages, seconds, writer.recordsPublished(), books.liveOrders(), d.unknownType,
                 d.badLength, books.counters().unknownOrder);
  }
  fh::notify("STATUS=replay done; serving the books");
  while (!o.exitWhenDone && !gStop.load(std::memory_order_relaxed))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  fh::notify("STOPPING=1");
  beating.store(false);
  heart.join();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"fhd: the fh feed handler daemon"};
  app.add_option("--source", o.source, "where messages come from")->check(CLI::IsMember({"file"}))->capture_default_str();
  app.add_option("--replay", o.replay, "capture to replay (BinaryFILE, pcap or pcapng) with --source file")
      ->required();
  app.add_option("--port", o.port, "only UDP datagrams to this destination port (pcap)");
  app.add_option("--rate", o.rate, "messages per second, 0 for as fast as possible")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--exit-when-done", o.exitWhenDone, "exit after the replay instead of serving the books");
  app.add_option("--trading-date", o.tradingDate, "YYYY-MM-DD of the feed's timestamps (default: today in New York)");
  app.add_option("--shm", o.region.name, "region name: /dev/shm/NAME")->capture_default_str();
  app.add_option("--shm-dir", o.region.directory, "directory of the region")->capture_default_str();
  app.add_option("--shm-group", o.region.group, "group owner of the region (readers need it)");
  app.add_option("--depth", o.region.depth, "levels per side published per book")->capture_default_str();
  app.add_option("--ring-mib", o.ringMiB, "tick ring size in MiB, a power of two")->capture_default_str();
  app.add_option("--max-instruments", o.book.maxInstruments, "stock locates 0..N-1")
      ->check(CLI::Range(2u, 65536u))
      ->capture_default_str();
  app.add_option("--max-orders", o.book.maxOrders, "live orders at once")
      ->check(CLI::Range(16u, 1u << 30))
      ->capture_default_str();
  app.add_option("--max-levels", o.book.maxLevels, "slots of the price-level arena")
      ->check(CLI::Range(64u, 1u << 30))
      ->capture_default_str();
  app.add_option("--log-level", o.logLevel, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("fhd"));  // stdout stays free for data
  spdlog::set_level(spdlog::level::from_str(o.logLevel));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%f %^%l%$ fhd: %v");
  struct sigaction sa{};
  sa.sa_handler = onSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    return run(o);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
