// fhd: the feed handler daemon. One feed from one source (AF_XDP sockets fed
// by the XDP steering program, kernel UDP sockets, or a capture file) through
// one feed (lib/feed/feed.h: sequencer → ITCH handler → region publisher), on a
// worker thread pinned to its CPU; a housekeeping thread keeps the heartbeat,
// the kernel-side counters and the systemd watchdog. Runs until SIGTERM or
// SIGINT; a file replay may end it (--exit-when-done).
#include <pthread.h>
#include <sched.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "book/order_book.h"
#include "capture/capture.h"
#include "config.h"
#include "counters.h"
#include "feed/feed.h"
#include "feed/file_source.h"
#include "host_check.h"
#include "record/record.h"
#include "rerequest.h"
#include "shm/clock.h"
#include "shm/writer.h"
#include "snapshot_fetcher.h"
#include "sources.h"
#include "util/notify.h"

namespace {

using namespace fh;
using daemon::Config;
using daemon::Feed;

std::atomic<bool> gStop{false};
// Advanced by the worker whenever it goes round its loop's housekeeping; the
// watchdog is fed only while it moves, so a stuck worker gets the daemon restarted.
std::atomic<uint64_t> gWorkerBeat{0};

void workerAlive() { gWorkerBeat.store(gWorkerBeat.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

void onSignal(int) { gStop.store(true, std::memory_order_relaxed); }

bool stopping() { return gStop.load(std::memory_order_relaxed); }

// Midnight in New York of the trading date, as UNIX nanoseconds.
int64_t tradingMidnight(const std::string& date) {
  if (!date.empty()) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (std::sscanf(date.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31 ||
        y < 1970 || y > 2200)
      throw daemon::ConfigError("feed.trading_date (--trading-date): '" + date + "' is not a date YYYY-MM-DD");
    return record::easternMidnightNs(y, m, d);
  }
  const time_t now = std::time(nullptr);
  tm utc{};
  gmtime_r(&now, &utc);
  int64_t midnight = record::easternMidnightNs(utc.tm_year + 1900, unsigned(utc.tm_mon + 1), unsigned(utc.tm_mday));
  if (int64_t(now) * 1'000'000'000 < midnight) midnight -= 86'400'000'000'000;  // still yesterday in New York
  return midnight;
}

void pinTo(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (const int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set); e != 0)
    throw daemon::ConfigError("feed.cpu: cannot pin the worker to CPU " + std::to_string(cpu) + ": " +
                              std::strerror(e));
}

// Every thread fhd starts besides the worker (housekeeping, the snapshot
// fetcher) inherits the main thread's CPUs: instance.housekeeping_cpu, or
// when the worker is pinned every CPU the process may use but the worker's.
// The worker, the main thread, pins itself later (pinTo). Returns what was
// done, for the log.
std::string pinHousekeeping(const Config& c, const Feed& f) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (c.housekeepingCpu >= 0) {
    CPU_SET(c.housekeepingCpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
      throw daemon::ConfigError("instance.housekeeping_cpu: cannot pin the housekeeping thread to CPU " +
                                std::to_string(c.housekeepingCpu) + ": " + std::strerror(errno));
  } else {
    if (f.cpu < 0) return "housekeeping on any CPU (the worker is not pinned)";
    if (sched_getaffinity(0, sizeof set, &set) != 0) return "housekeeping on any CPU (its CPUs unknown)";
    // An isolated worker CPU (isolcpus) is not in the set to begin with.
    if (CPU_ISSET(f.cpu, &set)) {
      if (CPU_COUNT(&set) < 2) return "housekeeping on any CPU (none is left beside the worker's)";
      CPU_CLR(f.cpu, &set);
      if (sched_setaffinity(0, sizeof set, &set) != 0)
        return std::string("housekeeping on any CPU (cannot keep it off the worker's: ") + std::strerror(errno) + ")";
    }
  }
  std::string cpus;
  for (int i = 0; i < CPU_SETSIZE; ++i)
    if (CPU_ISSET(i, &set)) {
      if (!cpus.empty()) cpus += ',';  // in steps: GCC 12 warns of a false -Wrestrict otherwise
      cpus += std::to_string(i);
    }
  if (c.housekeepingCpu >= 0 && c.housekeepingCpu == f.cpu)
    spdlog::warn("instance.housekeeping_cpu {} is feed.cpu too: the housekeeping thread takes turns with the worker",
                 c.housekeepingCpu);
  return "housekeeping on CPU " + cpus;
}

// The node the stores and the UMEM go to ([memory] numa_node), and why.
MemoryPolicy resolveMemory(const Config& c, const Feed& f, std::string& why) {
  MemoryPolicy policy{daemon::storesNode(c, f), c.memory.pages};
  const std::string node = "node " + std::to_string(policy.node);
  switch (c.memory.place) {
    case daemon::NodeChoice::Any:
      why = "where first touched (memory.numa_node = \"any\")";
      break;
    case daemon::NodeChoice::Number: {
      const std::vector<int> nodes = numaNodes();
      if (std::find(nodes.begin(), nodes.end(), c.memory.node) == nodes.end()) {
        std::string have;
        for (const int n : nodes) {
          if (!have.empty()) have += ", ";
          have += std::to_string(n);
        }
        throw daemon::ConfigError("memory.numa_node: node " + std::to_string(c.memory.node) +
                                  " does not exist on this host (its nodes: " + (have.empty() ? "none" : have) + ")");
      }
      why = node + " (memory.numa_node)";
      break;
    }
    case daemon::NodeChoice::Nic:
      if (f.source != daemon::Source::File) {
        why = policy.node >= 0
                  ? node + ", " + f.interface + "'s"
                  : "where first touched: " + f.interface + " has no NUMA node (a virtual device, or one node)";
        break;
      }
      [[fallthrough]];  // a replay: the worker's node
    case daemon::NodeChoice::Cpu:
      why = policy.node >= 0 ? node + ", the worker's CPU " + std::to_string(f.cpu) + "'s"
            : f.cpu < 0      ? "where first touched: the worker is not pinned"
                             : "where first touched: CPU " + std::to_string(f.cpu) + " has no NUMA node";
      break;
  }
  return policy;
}

// Logs what the kernel gave, and warns of what it did not.
void reportMemory(const Feed& f, const char* what, const MemoryGrant& g) {
  const std::string& name = f.name.empty() ? f.replay : f.name;
  spdlog::info("{}: {}: {}", name, what, describe(g));
  if (!g.fallback.empty()) spdlog::warn("{}: {}: {}", name, what, g.fallback);
}

// Keeps a replay to `rate` messages/s (0: as fast as it goes).
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate) {}
  bool paced() const noexcept { return rate_ > 0; }
  void wait(uint64_t messagesSoFar) const {
    if (rate_ <= 0) return;
    const auto due = start_ + std::chrono::duration<double>(double(messagesSoFar) / rate_);
    std::this_thread::sleep_until(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
  }

 private:
  double rate_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Replays a file through the feed, keeping to `rate` messages/s if set.
class Replay {
 public:
  Replay(feed::ItchFeed& feed, const feed::FileSourceCounters& source, double rate)
      : feed_(feed), source_(source), pacer_(rate) {}

  void message(const feed::MessageMeta& meta, const uint8_t* msg, uint16_t length) {
    if (stopping()) return;
    // A sequence again: the capture may hold two lines, each message twice.
    if (meta.fromPacket && meta.sequence != 0) {
      if (meta.sequence <= highestSequence_) ++repeated_;
      highestSequence_ = std::max(highestSequence_, meta.sequence);
    }
    // A BinaryFILE has no receive times: the clock, read once every 64 messages.
    if ((count_ & 63) == 0) nowNs_ = shm::realtimeNs();
    feed_.message(meta.sequence, meta.fromPacket ? meta.receivedNs : nowNs_, msg, length);
    if ((++count_ & 1023) == 0) {
      workerAlive();
      // The books a replay moved go out as snapshots once a millisecond at
      // full speed (a book changes many times in that while: each snapshot
      // then stands for many messages), and before each wait when paced.
      if (pacer_.paced() || nowNs_ - flushedNs_ >= kBookIntervalNs) {
        feed_.endOfBatch();
        flushedNs_ = nowNs_;
      }
      syncCounters();
      pacer_.wait(count_);
    }
  }
  void malformedPacket(uint64_t, const mold::PacketResult&) {}

  void sync() {
    feed_.endOfBatch();
    syncCounters();
  }
  uint64_t messages() const noexcept { return count_; }
  uint64_t repeated() const noexcept { return repeated_; }

 private:
  feed::ItchFeed& feed_;
  const feed::FileSourceCounters& source_;
  Pacer pacer_;
  static constexpr uint64_t kBookIntervalNs = 1'000'000;

  void syncCounters() {
    const auto& s = source_;
    feed_.syncCounters(s.packets,
                       s.portFiltered + s.notIpv4 + s.fragments + s.notUdp + s.truncatedFrames + s.unknownLink);
  }

  uint64_t count_ = 0;
  uint64_t nowNs_ = 0;
  uint64_t flushedNs_ = 0;  // when the books were last flushed
  uint64_t highestSequence_ = 0, repeated_ = 0;
};

// A capture of the feed's lines: each datagram to a line goes through the
// sequencer as it would live, at the capture's times, so a capture of both
// lines gives every message once. At the end of the file nothing more can
// come: the holes still open are lost.
class LineReplay {
 public:
  LineReplay(feed::ItchFeed& feed, shm::RegionWriter& writer, const daemon::SourceCounterIndex& index,
             const feed::FileSourceCounters& file, double rate)
      : feed_(feed), writer_(writer), index_(index), file_(file), pacer_(rate) {}

  void packet(int line, std::span<const uint8_t> payload, uint64_t timestampNs) {
    if (stopping()) return;
    ++counters_.datagrams;
    feed_.packet(line, payload, timestampNs);
    lastNs_ = timestampNs;
    messages_ = feed_.handler().decodeCounters().messages;
    if ((++packets_ & 63) == 0) {
      workerAlive();
      sync();
      pacer_.wait(messages_);
    }
  }
  void finish() {
    feed_.idle(lastNs_ + 3'600'000'000'000);  // an hour on: every hole has timed out
    sync();
  }
  void sync() {
    feed_.endOfBatch();
    feed_.syncCounters(feed::packetCounters(feed_.sequencer().counters()),
                       file_.portFiltered + file_.notIpv4 + file_.fragments + file_.notUdp + file_.truncatedFrames +
                           file_.unknownLink);
    daemon::syncSourceCounters(writer_, index_, feed_.sequencer().counters(), *this);
  }
  const daemon::SourceCounters& counters() const noexcept { return counters_; }
  uint64_t messages() const noexcept { return messages_; }

 private:
  feed::ItchFeed& feed_;
  shm::RegionWriter& writer_;
  const daemon::SourceCounterIndex& index_;
  const feed::FileSourceCounters& file_;
  Pacer pacer_;
  daemon::SourceCounters counters_;
  uint64_t packets_ = 0, messages_ = 0, lastNs_ = 0;
};

int replayFile(const Feed& f, feed::ItchFeed& feed, shm::RegionWriter& writer, const daemon::SourceCounterIndex& index,
               bool exitWhenDone) {
  const capture::MappedFile file(f.replay);  // throws, naming the file
  pinTo(f.cpu);
  writer.setSourceState(shm::SourceState::Running);
  fh::notify("STATUS=replaying " + f.replay);
  feed::FileSourceCounters sourceCounters;
  Replay replay(feed, sourceCounters, f.rate);
  LineReplay lineReplay(feed, writer, index, sourceCounters, f.rate);
  const auto t0 = std::chrono::steady_clock::now();
  feed::FileSourceResult result;
  if (f.replayLines) {
    std::vector<feed::CaptureLine> lines{{f.lineA.group, f.lineA.port}};
    if (f.lineB) lines.push_back({f.lineB->group, f.lineB->port});
    result = feed::replayLines(
        file.bytes(), lines, sourceCounters,
        [&](int line, std::span<const uint8_t> payload, uint64_t ts) { lineReplay.packet(line, payload, ts); });
    lineReplay.finish();
  } else {
    result = feed::replayFile(file.bytes(), {}, sourceCounters, replay);
    replay.sync();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!result.ok()) {
    spdlog::error("{}", result.describe(f.replay));
    writer.setSourceState(shm::SourceState::Failed);
    return 1;
  }
  writer.setSourceState(shm::SourceState::Done);
  const auto& d = feed.handler().decodeCounters();
  const book::OrderBooks& books = feed.handler().books();
  const uint64_t messages = f.replayLines ? lineReplay.messages() : replay.messages();
  spdlog::info(
      "replayed {}: {} messages in {:.3f} s ({:.2f}M messages/s, {:.1f} ns/message), {} records, {} live "
      "orders; skipped {} unknown types, {} wrong lengths, {} references to unknown orders",
      f.replay, d.messages, seconds, double(messages) / seconds / 1e6,
      seconds * 1e9 / double(std::max<uint64_t>(messages, 1)), writer.recordsPublished(), books.liveOrders(),
      d.unknownType, d.badLength, books.counters().unknownOrder);
  if (replay.repeated() > 0)
    spdlog::warn(
        "{}: {} messages came with a sequence number already replayed: if the capture holds both lines, "
        "name them (--line-a GROUP:PORT --line-b GROUP:PORT, or line_a/line_b in the configuration) so "
        "that each message is applied once",
        f.replay, replay.repeated());
  if (f.replayLines) {
    const feed::SequencerCounters& c = feed.sequencer().counters();
    spdlog::info(
        "lines of {}: A {} packets, B {} packets; {} duplicates, {} holes filled, {} lost ({} messages); "
        "{} datagrams to no line",
        f.replay, c.line[0].packets, c.line[1].packets, c.duplicates, c.filled, c.gaps, c.gapMessages,
        sourceCounters.portFiltered);
  }
  fh::notify("STATUS=replay done; serving the books");
  while (!exitWhenDone && !stopping()) {
    workerAlive();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

template <class Source>
void syncAll(feed::ItchFeed& feed, shm::RegionWriter& writer, const daemon::SourceCounterIndex& index,
             const Source& source, const daemon::RerequestSocket* rerequest) {
  feed.syncCounters(feed::packetCounters(feed.sequencer().counters()), 0);
  daemon::syncSourceCounters(writer, index, feed.sequencer().counters(), source);
  if (rerequest != nullptr) writer.set(index.at(daemon::SourceCounter::WrongSender), rerequest->counters().wrongSender);
}

// Loss a socket reveals (kernel socket-buffer overflows, AF_XDP drops): told
// at once, then at most every ten seconds with the count since.
class DropReport {
 public:
  DropReport(const Feed& f, const char* what) : f_(f), what_(what) {}
  void check(uint64_t total, uint64_t nowNs) {
    if (total <= reported_ || nowNs < nextNs_) return;
    spdlog::warn(
        "{}: {} {} more ({} in all): packets lost before fhd saw them; holes they leave are recovered or "
        "counted as gaps",
        f_.name, what_, total - reported_, total);
    reported_ = total;
    nextNs_ = nowNs + 10'000'000'000;
  }

 private:
  const Feed& f_;
  const char* what_;
  uint64_t reported_ = 0;
  uint64_t nextNs_ = 0;
};

// What the operator should hear of as it happens: a line falling silent or
// coming back, the session's end.
class FeedEvents {
 public:
  explicit FeedEvents(const Feed& f) : f_(f) {}
  void check(const feed::SequencerCounters& c, uint64_t nextSequence) {
    for (int l = 0; l < 2; ++l) {
      if (c.line[l].silent == silent_[l]) continue;
      silent_[l] = c.line[l].silent;
      if (silent_[l] != 0)
        spdlog::warn("{}: line {} is silent: no packet for {} ms", f_.name, l == 0 ? 'A' : 'B',
                     f_.sequencer.lineSilenceNs / 1'000'000);
      else
        spdlog::info("{}: line {} sends again", f_.name, l == 0 ? 'A' : 'B');
    }
    if (c.endOfSession > 0 && !announcedEnd_) {
      announcedEnd_ = true;
      spdlog::info("{}: end of session at sequence {}", f_.name, nextSequence);
    }
  }

 private:
  const Feed& f_;
  uint64_t silent_[2] = {};
  bool announcedEnd_ = false;
};

// A snapshot's messages (2-byte lengths and messages) into the tap, in
// pieces of whole messages; a capture gives them SoupBinTCP framing.
void tapSnapshot(shm::RegionWriter& writer, std::span<const uint8_t> blocks, uint64_t recvNs) {
  constexpr size_t kPiece = 32 << 10;  // a capture's TCP segment stays under 64 KiB with the framing added
  size_t from = 0, at = 0;
  while (at + 2 <= blocks.size()) {
    const size_t next = at + 2 + (size_t{blocks[at]} << 8 | blocks[at + 1]);
    if (next > blocks.size()) break;
    if (next - from > kPiece && at > from) {
      writer.tap(shm::TapLine::Snapshot, recvNs, blocks.subspan(from, at - from));
      from = at;
    }
    at = next;
  }
  if (at > from) writer.tap(shm::TapLine::Snapshot, recvNs, blocks.subspan(from, at - from));
}

// What a capture puts in the headers of each line's packets: the tap keeps
// payloads, so these are the configuration's addresses, not the packets'.
void describeTapLines(shm::RegionConfig& region, const Feed& f, const daemon::RerequestSocket* rerequest) {
  const auto at = [&](shm::TapLine line) -> shm::TapEndpoints& { return region.tapEndpoints[uint32_t(line)]; };
  at(shm::TapLine::A) = {f.lineA.source.value_or(0), f.lineA.group, 0, f.lineA.port, 17, {}};
  if (f.lineB) at(shm::TapLine::B) = {f.lineB->source.value_or(0), f.lineB->group, 0, f.lineB->port, 17, {}};
  if (rerequest != nullptr && !f.rerequestServers.empty())
    at(shm::TapLine::Retransmission) = {
        f.rerequestServers.front().address, 0, f.rerequestServers.front().port, rerequest->localPort(), 17, {}};
  if (f.snapshotStage.enabled)
    at(shm::TapLine::Snapshot) = {f.snapshot.server.address, 0, f.snapshot.server.port, 0, 6, {}};
}

template <class Source>
int runNetwork(const Feed& f, Source& source, feed::ItchFeed& feed, shm::RegionWriter& writer,
               daemon::SourceCounterIndex index, daemon::RerequestSocket* rerequest,
               daemon::SnapshotFetcher* snapshots) {
  pinTo(f.cpu);
  feed.timePackets(true);
  writer.setSourceState(shm::SourceState::Running);
  fh::notify("STATUS=receiving " + f.name);
  uint64_t emptyPolls = 0, batches = 0;
  uint64_t nextHousekeeping = 0;
  FeedEvents events(f);
  DropReport socketDrops(f, "the kernel's UDP socket buffers dropped");
  // A capture's copy is made after the feed is done with the packet.
  const auto onPacket = [&](int line, std::span<const uint8_t> payload, uint64_t recvNs) {
    feed.packet(line, payload, recvNs);
    if (writer.tapping()) [[unlikely]]
      writer.tap(static_cast<shm::TapLine>(line), recvNs, payload);
  };
  const auto onReply = [&](std::span<const uint8_t> payload, uint64_t recvNs) {
    feed.retransmission(payload, recvNs);
    if (writer.tapping()) [[unlikely]]
      writer.tap(shm::TapLine::Retransmission, recvNs, payload);
  };
  while (!stopping()) {
    // Replies are read only while the sequencer waits for one: no system call otherwise.
    const bool awaiting = rerequest != nullptr && feed.sequencer().awaitingReplies();
    uint32_t n = source.receive(onPacket);
    if (awaiting) n += rerequest->receive(onReply);
    if (n > 0) {
      feed.endOfBatch();
      emptyPolls = 0;
      if ((++batches & 63) != 0) continue;
    } else {
      ++emptyPolls;
      switch (f.idle) {
        case daemon::Idle::Spin:
          break;
        case daemon::Idle::SpinYield:
          if (emptyPolls > 1000) sched_yield();
          break;
        case daemon::Idle::Poll:
          source.wait(10, awaiting ? rerequest->fd() : -1);
          break;
      }
      if ((emptyPolls & 255) != 0 && f.idle != daemon::Idle::Poll) continue;
    }
    const uint64_t now = shm::realtimeNs();
    if (now < nextHousekeeping) continue;
    nextHousekeeping = now + 1'000'000;  // at most once a millisecond
    workerAlive();
    feed.idle(now);
    if (snapshots != nullptr && snapshots->ready()) {  // merged here, on the worker
      const daemon::SnapshotFetcher::Snapshot s = snapshots->take();
      const bool merged = feed.loadSnapshot(s.generation, s.blocks, s.next, now);
      if (writer.tapping()) tapSnapshot(writer, s.blocks, now);
      const feed::SnapshotCounters c = feed.recovery().counters();
      if (merged)
        spdlog::info(
            "{}: snapshot merged: {} orders; {} buffered messages applied from sequence {}, {} it already "
            "held; every book complete",
            f.name, c.orders, c.replayed, s.next, c.covered);
      else if (feed.recovery().waiting())
        spdlog::warn(
            "{}: snapshot unusable: it ends at sequence {}, before the live messages still kept; asking "
            "for another",
            f.name, s.next);
      snapshots->done(feed.recovery().waiting());
    }
    syncAll(feed, writer, index, source, rerequest);
    if (snapshots != nullptr) daemon::syncFetcherCounters(writer, index, snapshots->counters());
    events.check(feed.sequencer().counters(), feed.sequencer().nextSequence());
    socketDrops.check(source.counters().socketDrops, now);
  }
  syncAll(feed, writer, index, source, rerequest);
  writer.setSourceState(shm::SourceState::Stopped);  // told to stop: no longer receiving
  return 0;
}

int run(const Config& config, bool exitWhenDone) {
  const Feed& f = config.feeds.front();
  const std::string helpers = pinHousekeeping(config, f);
  std::string placement;
  const MemoryPolicy memory = resolveMemory(config, f, placement);
  spdlog::info("{}: worker on {}, {}; stores and UMEM asked for {}, {}", f.name.empty() ? f.replay : f.name,
               f.cpu >= 0 ? "CPU " + std::to_string(f.cpu) : std::string("any CPU"), helpers, placement,
               describe(memory.pages));
  shm::RegionConfig region = config.region;
  region.counters = feed::feedCounterNames();
  region.histograms = feed::feedHistogramNames();
  const daemon::SourceCounterIndex index = daemon::addSourceCounterNames(region.counters, f);
  const int64_t midnight = tradingMidnight(f.tradingDate);

  // The source first: a bad interface or a refused XDP attach fails before
  // the region replaces an older one.
  std::unique_ptr<daemon::XdpSource> xdp;
  std::unique_ptr<daemon::UdpSource> udp;
  if (f.source == daemon::Source::Xdp) {
    xdp = std::make_unique<daemon::XdpSource>(f, memory);
    spdlog::info(
        "{}: XDP program attached to {} in {} mode; AF_XDP sockets on queues {} in {} mode; busy polling "
        "{}",
        f.name, f.interface, xsk::name(xdp->mode()), fmt::join(xdp->queues(), ","),
        xdp->zeroCopy() ? "zero-copy" : "copy", xdp->busyPolling() ? "in effect" : "refused");
  } else if (f.source == daemon::Source::Udp) {
    udp = std::make_unique<daemon::UdpSource>(f);
    spdlog::info("{}: kernel UDP sockets on {} (recvmmsg); busy polling {}", f.name, f.interface,
                 udp->busyPolling() ? "in effect" : "refused or off");
  }

  std::unique_ptr<daemon::RerequestSocket> rerequest;
  feed::RequestFunction requests;
  if ((xdp || udp) && !f.rerequestServers.empty()) {
    rerequest = std::make_unique<daemon::RerequestSocket>(f);
    requests.context = rerequest.get();
    requests.send = [](void* socket, uint32_t server, std::span<const uint8_t> packet) noexcept {
      return static_cast<daemon::RerequestSocket*>(socket)->request(server, packet);
    };
    std::vector<std::string> servers;
    for (const daemon::Endpoint& e : f.rerequestServers)
      servers.push_back(daemon::formatIpv4(e.address) + ":" + std::to_string(e.port));
    spdlog::info("{}: holes re-requested from {} (in that order), replies to UDP port {}", f.name,
                 fmt::join(servers, ", "), rerequest->localPort());
  }

  if (xdp || udp) describeTapLines(region, f, rerequest.get());
  book::BookConfig bookConfig = config.book;
  bookConfig.memory = memory;
  book::OrderBooks books(bookConfig);
  shm::RegionWriter writer(region);
  std::unique_ptr<daemon::SnapshotFetcher> snapshots;
  feed::SnapshotChannel snapshotChannel;
  if ((xdp || udp) && f.snapshotStage.enabled) {
    snapshots = std::make_unique<daemon::SnapshotFetcher>(f);
    snapshotChannel.context = snapshots.get();
    snapshotChannel.request = [](void* fetcher, uint64_t generation) noexcept {
      static_cast<daemon::SnapshotFetcher*>(fetcher)->request(generation);
    };
    spdlog::info("{}: books rebuilt after a join or a lost hole from GLIMPSE server {}:{}", f.name,
                 daemon::formatIpv4(f.snapshot.server.address), f.snapshot.server.port);
  }
  auto feed = std::make_unique<feed::ItchFeed>(books, writer, midnight, f.sequencer, requests,
                                               snapshots ? f.snapshotStage : feed::SnapshotConfig{}, snapshotChannel);
  spdlog::info("region {} ready: {} instruments, depth {}, ring {} MiB, generation {:016x}", writer.path(),
               region.maxInstruments, region.depth, region.ringBytes >> 20, writer.header().generation);
  if (xdp) daemon::setModeCounters(writer, index, *xdp);
  if (udp) daemon::setModeCounters(writer, index, *udp);
  MemoryGrant stores = books.memoryGrant();
  stores += feed->handler().memoryGrant();
  reportMemory(f, "book stores", stores);
  const MemoryGrant umem = xdp ? xdp->memoryGrant() : MemoryGrant{};
  if (xdp) reportMemory(f, "UMEM", umem);
  daemon::setMemoryCounters(writer, index, stores, umem);

  // The source is open and the region made: ready, before any watchdog ping.
  fh::notify("READY=1");
  std::atomic<bool> housekeeping{true};
  std::thread housekeeper([&] {
    uint64_t lastBeat = 0;
    int stuck = 0;
    DropReport xskDrops(f, "the AF_XDP sockets dropped");
    bool tapping = false;
    while (housekeeping.load(std::memory_order_relaxed)) {
      if (const bool now = (xdp || udp) && writer.probeTap(); now != tapping) {
        tapping = now;
        spdlog::info("{}: {}", f.name,
                     now ? "a capture attached: received packets are copied into the tap"
                         : "no capture attached any more: the tap is off");
      }
      daemon::syncTapCounters(writer, index, tapping);
      const uint64_t beat = gWorkerBeat.load(std::memory_order_relaxed);
      stuck = beat == lastBeat ? stuck + 1 : 0;
      lastBeat = beat;
      if (stuck < 20) {  // the worker went round within the last two seconds
        writer.heartbeat();
        fh::notify("WATCHDOG=1");
      }
      if (xdp) {
        daemon::syncKernelCounters(writer, index, *xdp);
        xskDrops.check(xdp->socketStats().rxDropped, shm::realtimeNs());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  int status = 0;
  try {
    if (xdp)
      status = runNetwork(f, *xdp, *feed, writer, index, rerequest.get(), snapshots.get());
    else if (udp)
      status = runNetwork(f, *udp, *feed, writer, index, rerequest.get(), snapshots.get());
    else
      status = replayFile(f, *feed, writer, index, exitWhenDone);
  } catch (...) {
    writer.setSourceState(shm::SourceState::Failed);
    housekeeping = false;
    housekeeper.join();
    throw;
  }
  fh::notify("STOPPING=1");
  housekeeping = false;
  housekeeper.join();
  if (xdp) daemon::syncKernelCounters(writer, index, *xdp);
  return status;
}

std::string describe(const Config& c) {
  const Feed& f = c.feeds.front();
  std::string s =
      "instance " + c.instance + ", region " + c.region.directory + "/" + c.region.name + ", feed " + f.name + ": ";
  if (f.source == daemon::Source::File) return s + "replay of " + f.replay;
  s += std::string(f.source == daemon::Source::Xdp ? "xdp" : "udp") + " on " + f.interface;
  s += ", line A " + daemon::formatIpv4(f.lineA.group) + ":" + std::to_string(f.lineA.port);
  if (f.lineB) s += ", line B " + daemon::formatIpv4(f.lineB->group) + ":" + std::to_string(f.lineB->port);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string configPath;
  bool check = false, exitWhenDone = false, json = false;
  std::string hostRoot = "/";
  Config c;
  Feed f;
  f.source = daemon::Source::File;
  std::string source = "file";
  uint32_t ringMiB = 64;
  CLI::App app{"fhd: the fh feed handler daemon"};
  app.add_option("--config", configPath, "TOML configuration (see config/fhd.toml)");
  app.add_flag("--check", check,
               "validate the configuration, report the host as it stands for each feed (ok / warn / bad, why, the "
               "fix), and exit; the status is the configuration's");
  app.add_flag("--json", json, "with --check: the host report as one JSON object");
  app.add_option("--host-root", hostRoot, "with --check: where /sys and /proc are (tests use a fake tree)")->group("");
  // Without --config: a file replay described on the command line.
  app.add_option("--source", source, "file (with --replay); network sources need --config")
      ->check(CLI::IsMember({"file"}))
      ->capture_default_str();
  app.add_option("--replay", f.replay, "capture to replay (BinaryFILE, pcap or pcapng)");
  std::string lineA, lineB;
  app.add_option("--line-a", lineA, "GROUP:PORT of line A in the capture: its datagrams are sequenced as live");
  app.add_option("--line-b", lineB, "GROUP:PORT of line B in the capture (needs --line-a)");
  app.add_option("--rate", f.rate, "messages per second, 0 for as fast as possible")->check(CLI::NonNegativeNumber);
  app.add_flag("--exit-when-done", exitWhenDone, "exit after a file replay instead of serving the books");
  app.add_option("--trading-date", f.tradingDate, "YYYY-MM-DD of the feed's timestamps (default: today in New York)");
  app.add_option("--shm", c.region.name, "region name: /dev/shm/NAME")->capture_default_str();
  app.add_option("--shm-dir", c.region.directory, "directory of the region")->capture_default_str();
  app.add_option("--shm-group", c.region.group, "group owner of the region (readers need it)");
  app.add_option("--depth", c.region.depth, "levels per side published per book")->capture_default_str();
  app.add_option("--ring-mib", ringMiB, "tick ring size in MiB, a power of two")->capture_default_str();
  app.add_option("--max-instruments", c.book.maxInstruments, "stock locates 0..N-1")
      ->check(CLI::Range(2u, 65536u))
      ->capture_default_str();
  app.add_option("--max-orders", c.book.maxOrders, "live orders at once")
      ->check(CLI::Range(16u, 1u << 30))
      ->capture_default_str();
  app.add_option("--max-levels", c.book.maxLevels, "slots of the price-level arena")
      ->check(CLI::Range(64u, 1u << 30))
      ->capture_default_str();
  std::string hugePages = "transparent";
  app.add_option("--huge-pages", hugePages, "the stores' pages: explicit (2 MiB hugetlbfs), transparent, off")
      ->capture_default_str();
  std::string numaNode = "cpu";
  app.add_option("--numa-node", numaNode,
                 "the stores' NUMA node: cpu (the worker's, if pinned; nic means the same for a file), any, or a "
                 "number")
      ->capture_default_str();
  app.add_option("--cpu", f.cpu, "pin the replay's worker to this CPU (-1: not pinned)")
      ->check(CLI::Range(-1, CPU_SETSIZE - 1))
      ->capture_default_str();
  app.add_option("--log-level", c.logLevel, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("fhd"));  // stdout stays free for data
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%f %^%l%$ fhd: %v");
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    if (!configPath.empty()) {
      c = daemon::loadConfig(configPath);
    } else {
      if (f.replay.empty()) throw daemon::ConfigError("--replay: missing (or give --config FILE)");
      daemon::setReplayLines(f, lineA, lineB);
      if (ringMiB == 0 || (ringMiB & (ringMiB - 1)) != 0 || ringMiB > 16384)
        throw daemon::ConfigError("--ring-mib: " + std::to_string(ringMiB) + " is not a power of two from 1 to 16384");
      c.region.ringBytes = uint64_t{ringMiB} << 20;
      c.region.maxInstruments = c.book.maxInstruments;
      const std::optional<HugePages> pages = daemon::named(daemon::hugePagesChoices(), hugePages);
      if (!pages) throw daemon::ConfigError("--huge-pages: '" + hugePages + "' is not explicit, transparent or off");
      c.memory.pages = *pages;
      if (const std::optional<daemon::NodeChoice> place = daemon::named(daemon::numaNodeChoices(), numaNode)) {
        c.memory.place = *place;
      } else {
        char* end = nullptr;
        const long node = std::strtol(numaNode.c_str(), &end, 10);
        if (numaNode.empty() || *end != '\0' || node < 0 || node > 1023)
          throw daemon::ConfigError("--numa-node: '" + numaNode + "' is not cpu, nic, any or a node number");
        c.memory.place = daemon::NodeChoice::Number;
        c.memory.node = int(node);
      }
      shm::RegionConfig probe = c.region;
      shm::validate(probe);
      c.feeds.push_back(f);
    }
    spdlog::set_level(spdlog::level::from_str(c.logLevel));
    if (check) {
      tradingMidnight(c.feeds.front().tradingDate);
      const std::vector<daemon::HostItem> host = daemon::checkHost(c, hostRoot);
      if (json) {
        std::fputs(daemon::formatHostReportJson(host).c_str(), stdout);
        return 0;
      }
      std::printf("%s: configuration OK: %s\n", configPath.empty() ? "command line" : configPath.c_str(),
                  describe(c).c_str());
      std::printf("host:\n%s", daemon::formatHostReport(host).c_str());
      return 0;
    }
    return run(c, exitWhenDone);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
