// One feed, composed from its stages (stages.h) as the data flows:
//
//   packets ──► Sequencer ──► SnapshotRecovery ──► ItchHandler ──► RegionPublisher ──► /dev/shm region
//
// A network source hands packets of both lines to packet() and calls
// endOfBatch() after each receive batch; a file replay of a BinaryFILE, whose
// records are already in order, hands messages to message(). The counters and
// latency histograms of every stage reach the region in one place,
// syncCounters(). One worker thread; nothing here allocates, locks or logs
// after construction.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "book/order_book.h"
#include "feed/itch_handler.h"
#include "feed/region_publisher.h"
#include "feed/sequencer.h"
#include "feed/snapshot_recovery.h"
#include "mold/moldudp64.h"
#include "shm/clock.h"
#include "shm/histogram.h"
#include "shm/writer.h"

namespace fh::feed {

// The feed's counters, in region order: name, then meaning.
#define FH_FEED_COUNTERS(X)                                                                  \
  X(Messages, "messages") /* decoded, known type, exact length */                            \
  X(UnknownType, "messages.unknown_type")                                                    \
  X(BadLength, "messages.bad_length") /* wrong for the type, or empty */                     \
  X(Packets, "packets")               /* MoldUDP64 packets read */                           \
  X(Heartbeats, "packets.heartbeat")                                                         \
  X(EndOfSession, "packets.end_of_session")                                                  \
  X(MalformedPackets, "packets.malformed") /* truncated, overrun, trailing bytes */          \
  X(FramesSkipped, "frames.skipped")       /* not IPv4 UDP to the feed's port */             \
  X(UnknownOrder, "book.unknown_order")    /* reference to an order not live */              \
  X(DuplicateOrder, "book.duplicate_order")                                                  \
  X(BadLocate, "book.bad_locate")                                                            \
  X(StoreFull, "book.store_full")      /* order or level store full */                       \
  X(RefTooLarge, "book.ref_too_large") /* adds refused: reference >= 2^47 */                 \
  X(BadPrice, "book.bad_price")        /* adds refused: price off its grid */                \
  X(BadSide, "book.bad_side")          /* adds refused: side not 'B' or 'S' (book marked) */ \
  X(LiveOrders, "book.live_orders")                                                          \
  X(LiveLevels, "book.live_levels")                                                          \
  X(StaleBooks, "book.stale") /* books marked maybe-bad */                                   \
  X(Joining, "feed.joining")  /* 1: joined mid-session, books incomplete */                  \
  X(Stale, "feed.stale")      /* 1: a hole was lost, books marked */                         \
  X(Records, "ring.records")  /* records published to the tick ring */                       \
  X(BookPublishes, "shm.book_publishes")                                                     \
  X(SnapshotWaiting, "snapshot.waiting")   /* 1: books wait for a snapshot */                \
  X(SnapshotRequests, "snapshot.requests") /* a join or a lost hole needed one */            \
  X(SnapshotLoaded, "snapshot.loaded")     /* snapshots merged */                            \
  X(SnapshotMessages, "snapshot.messages")                                                   \
  X(SnapshotOrders, "snapshot.orders")                                                       \
  X(SnapshotBuffered, "snapshot.buffered")        /* live messages kept while waiting */     \
  X(SnapshotReplayed, "snapshot.replayed")        /* of those, applied after a snapshot */   \
  X(SnapshotCovered, "snapshot.covered")          /* live messages a snapshot already had */ \
  X(SnapshotOverflowed, "snapshot.overflowed")    /* dropped from a full buffer */           \
  X(SnapshotUnusable, "snapshot.unusable")        /* ended before the buffer's first */      \
  X(SnapshotSuspectAdds, "snapshot.suspect_adds") /* off-by-one signs */                     \
  X(SnapshotSuspectUnknown, "snapshot.suspect_unknown")                                      \
  X(SnapshotSequence, "snapshot.last_sequence") /* End of Snapshot's, last merged */         \
  X(SnapshotMergedNs, "snapshot.merged_ns")     /* when, ns since the UNIX epoch */

enum class Counter : uint32_t {
#define FH_COUNTER_ENUM(id, name) id,
  FH_FEED_COUNTERS(FH_COUNTER_ENUM)
#undef FH_COUNTER_ENUM
      kCount
};

inline std::vector<std::string> feedCounterNames() {
  return {
#define FH_COUNTER_NAME(id, name) name,
      FH_FEED_COUNTERS(FH_COUNTER_NAME)
#undef FH_COUNTER_NAME
  };
}

// The feed's latency histograms, in region order (values in ns).
enum class Latency : uint32_t {
  FeedToReceive,     // per message: ts_recv - ts_event (the feed's clock to ours)
  ReceiveToPublish,  // per packet of a network source: its receive time to its last tick in the ring
  kCount
};
inline std::vector<std::string> feedHistogramNames() {
  return {"latency.feed_to_receive_ns", "latency.receive_to_publish_ns"};
}

// The packets of both lines as the sequencer saw them.
inline mold::PacketCounters packetCounters(const SequencerCounters& s) noexcept {
  mold::PacketCounters p;
  p.packets = s.line[0].packets + s.line[1].packets;
  p.heartbeats = s.heartbeats;
  p.endOfSession = s.endOfSession;
  p.truncated = s.line[0].malformed + s.line[1].malformed;
  return p;
}

// The sequencer's request channel as a plain function and its context: a
// request is rare, so an indirect call costs nothing that matters, and the
// feed need not know the daemon's socket type.
struct RequestFunction {
  bool (*send)(void* context, uint32_t server, std::span<const uint8_t> packet) noexcept = nullptr;
  void* context = nullptr;
  bool request(uint32_t server, std::span<const uint8_t> packet) noexcept {
    return send != nullptr && send(context, server, packet);
  }
};

class ItchFeed {
 public:
  using Handler = ItchHandler<RegionPublisher>;
  using Recovery = SnapshotRecovery<Handler>;
  using FeedSequencer = Sequencer<Recovery, RequestFunction>;
  static_assert(ProtocolHandler<Handler>);
  static_assert(book::ItchBookHandler<Handler> && book::ItchBookHandler<book::BookBuilder<Handler>>);

  // midnightNs: UNIX time of midnight in New York on the trading date.
  // requests: where the sequencer sends re-requests (none: holes are lost after the wait).
  // snapshots: where the snapshot stage asks for a snapshot (with snapshot.enabled).
  ItchFeed(book::OrderBooks& books, shm::RegionWriter& writer, int64_t midnightNs, const SequencerConfig& sequencing,
           RequestFunction requests = {}, const SnapshotConfig& snapshot = {}, SnapshotChannel snapshots = {})
      : publisher_(writer),
        handler_(books, publisher_, midnightNs),
        recovery_(snapshot, handler_, snapshots),
        requests_(requests),
        sequencer_(sequencing, recovery_, requests.send != nullptr ? &requests_ : nullptr) {}
  ItchFeed(const ItchFeed&) = delete;
  ItchFeed& operator=(const ItchFeed&) = delete;

  // A network source: one UDP payload of line 0 (A) or 1 (B).
  void packet(int line, std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    sequencer_.packet(line, payload, recvNs);
    if (timePackets_) publishDelay_.record(static_cast<int64_t>(shm::realtimeNs() - recvNs));
  }
  // A re-request server's reply.
  void retransmission(std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    sequencer_.retransmission(payload, recvNs);
    if (timePackets_) publishDelay_.record(static_cast<int64_t>(shm::realtimeNs() - recvNs));
  }
  // Whether receive → publish is measured: only where a packet's receive
  // time is this host's clock (CLOCK_REALTIME), not a capture's. One clock
  // read per packet.
  void timePackets(bool on) noexcept { timePackets_ = on; }
  // After each batch of packets, and when idle: what could wait goes out.
  void endOfBatch() noexcept { handler_.flush(); }
  void idle(uint64_t nowNs) noexcept {
    sequencer_.idle(nowNs);
    handler_.flush();
  }

  // A snapshot the fetcher brought for request `generation`: merged now (see
  // snapshot_recovery.h). False when it was not.
  bool loadSnapshot(uint64_t generation, std::span<const uint8_t> blocks, uint64_t next, uint64_t recvNs) noexcept {
    const bool merged = recovery_.load(generation, blocks, next, recvNs);
    handler_.flush();
    return merged;
  }

  // A file replay: one message, already in order (no sequencing).
  void message(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    handler_.message(sequence, recvNs, msg, length);
  }

  // Copies every stage's counters into the region: `packets` and
  // `framesSkipped` from the source (packetCounters() for a network feed).
  void syncCounters(const mold::PacketCounters& packets, uint64_t framesSkipped) noexcept {
    shm::RegionWriter& w = publisher_.writer();
    const auto set = [&](Counter c, uint64_t v) { w.set(static_cast<size_t>(c), v); };
    const itch::DecodeCounters& d = handler_.decodeCounters();
    const book::OrderBooks& books = handler_.books();
    const book::BookCounters& b = books.counters();
    set(Counter::Messages, d.messages);
    set(Counter::UnknownType, d.unknownType);
    set(Counter::BadLength, d.badLength);
    set(Counter::Packets, packets.packets);
    set(Counter::Heartbeats, packets.heartbeats);
    set(Counter::EndOfSession, packets.endOfSession);
    set(Counter::MalformedPackets, packets.truncated + packets.overrun + packets.trailing);
    set(Counter::FramesSkipped, framesSkipped);
    set(Counter::UnknownOrder, b.unknownOrder);
    set(Counter::DuplicateOrder, b.duplicateOrder);
    set(Counter::BadLocate, b.badInstrument);
    set(Counter::StoreFull, b.orderStoreFull + b.levelStoreFull);
    set(Counter::RefTooLarge, b.refTooLarge);
    set(Counter::BadPrice, b.badPrice);
    set(Counter::BadSide, handler_.builderCounters().badSide);
    set(Counter::LiveOrders, books.liveOrders());
    set(Counter::LiveLevels, books.liveLevels());
    set(Counter::StaleBooks, handler_.counters().staleBooks);
    set(Counter::Joining, handler_.joining());
    set(Counter::Stale, handler_.stale());
    set(Counter::Records, publisher_.counters().records);
    set(Counter::BookPublishes, publisher_.counters().books);
    const SnapshotCounters sc = recovery_.counters();
    set(Counter::SnapshotWaiting, sc.waiting);
    set(Counter::SnapshotRequests, sc.requests);
    set(Counter::SnapshotLoaded, sc.loaded);
    set(Counter::SnapshotMessages, sc.messages);
    set(Counter::SnapshotOrders, sc.orders);
    set(Counter::SnapshotBuffered, sc.buffered);
    set(Counter::SnapshotReplayed, sc.replayed);
    set(Counter::SnapshotCovered, sc.covered);
    set(Counter::SnapshotOverflowed, sc.overflowed);
    set(Counter::SnapshotUnusable, sc.unusable);
    set(Counter::SnapshotSuspectAdds, sc.suspectAdds);
    set(Counter::SnapshotSuspectUnknown, sc.suspectUnknown);
    set(Counter::SnapshotSequence, sc.lastSequence);
    set(Counter::SnapshotMergedNs, sc.mergedNs);
    w.publishHistogram(static_cast<size_t>(Latency::FeedToReceive), handler_.feedDelay());
    w.publishHistogram(static_cast<size_t>(Latency::ReceiveToPublish), publishDelay_);
  }

  const FeedSequencer& sequencer() const noexcept { return sequencer_; }
  const Handler& handler() const noexcept { return handler_; }
  const Recovery& recovery() const noexcept { return recovery_; }

 private:
  RegionPublisher publisher_;
  Handler handler_;
  Recovery recovery_;
  RequestFunction requests_;
  FeedSequencer sequencer_;
  bool timePackets_ = false;
  shm::Histogram publishDelay_;
};

}  // namespace fh::feed
