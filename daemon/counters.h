// The region's counters beyond the pipeline's: line arbitration and the
// source (for every source), and for AF_XDP the socket statistics, the XDP
// program's per-reason counts and frames by queue. Each slot has one writer:
// the worker thread for arbitration and source counts, the housekeeping
// thread for what it reads from the kernel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "feed/sequencer.h"
#include "shm/writer.h"
#include "snapshot_fetcher.h"
#include "sources.h"

namespace fh::daemon {

// Per line (A, B, and the re-request servers' replies): every message it
// brought is applied, a duplicate, late, unparsed, foreign, or still held.
#define FH_LINE_COUNTERS(X, id, name)   \
  X(id##Packets, name ".packets")       \
  X(id##Messages, name ".messages")     \
  X(id##Applied, name ".applied")       \
  X(id##Duplicates, name ".duplicates") \
  X(id##Late, name ".late")             \
  X(id##Unparsed, name ".unparsed")     \
  X(id##Foreign, name ".foreign")       \
  X(id##Silent, name ".silent")         \
  X(id##Silences, name ".silences")

#define FH_SOURCE_COUNTERS(X)                                       \
  FH_LINE_COUNTERS(X, LineA, "line_a")                              \
  FH_LINE_COUNTERS(X, LineB, "line_b")                              \
  FH_LINE_COUNTERS(X, Replies, "retransmission")                    \
  X(LineMalformed, "lines.malformed")                               \
  X(Requests, "retransmission.requests")                            \
  X(Retries, "retransmission.retries")                              \
  X(Failovers, "retransmission.failovers")                          \
  X(SendFailures, "retransmission.send_failures")                   \
  X(MessagesRequested, "retransmission.messages_requested")         \
  X(WrongSession, "retransmission.wrong_session")                   \
  X(WrongSender, "retransmission.wrong_sender")                     \
  X(Exhausted, "retransmission.exhausted")                          \
  X(InFlight, "retransmission.in_flight")                           \
  X(Duplicates, "arbiter.duplicates")                               \
  X(Held, "arbiter.held")                                           \
  X(HeldMessages, "arbiter.held_messages")                          \
  X(Filled, "arbiter.filled")                                       \
  X(Gaps, "arbiter.gaps")                                           \
  X(GapMessages, "arbiter.gap_messages")                            \
  X(Heartbeats, "arbiter.heartbeats")                               \
  X(EndOfSession, "arbiter.end_of_session")                         \
  X(SessionChanges, "arbiter.session_changes")                      \
  X(ForeignPackets, "arbiter.foreign_packets")                      \
  X(JoinedAt, "feed.joined_at")                                     \
  X(Datagrams, "source.datagrams")                                  \
  X(WrongSource, "source.wrong_source")                             \
  X(Truncated, "source.truncated")                                  \
  X(SocketDrops, "source.socket_drops")                             \
  X(BadChecksum, "source.bad_ip_checksum")                          \
  X(NotALine, "source.not_a_line")                                  \
  X(BusyPolling, "source.busy_poll_in_effect")                      \
  X(ZeroCopy, "xsk.zero_copy")                                      \
  X(NativeMode, "xdp.native_mode")                                  \
  X(RxDropped, "xsk.rx_dropped")                                    \
  X(RxRingFull, "xsk.rx_ring_full")                                 \
  X(FillRingEmpty, "xsk.fill_ring_empty")                           \
  X(RxInvalid, "xsk.rx_invalid")                                    \
  X(FetchAttempts, "snapshot.fetch_attempts")                       \
  X(Fetched, "snapshot.fetched")                                    \
  X(FetchRejected, "snapshot.login_rejected")                       \
  X(FetchClosed, "snapshot.closed_early")                           \
  X(FetchSilent, "snapshot.server_silent")                          \
  X(FetchConnectFailures, "snapshot.connect_failures")              \
  X(FetchMalformed, "snapshot.malformed")                           \
  X(FetchMs, "snapshot.fetch_ms")                                   \
  X(TapAttached, "tap.attached") /* 1: a capture is attached */     \
  X(TapPackets, "tap.packets")   /* packets copied into the tap */  \
  X(TapRefused, "tap.refused")   /* too large for the tap's ring */ \
  FH_MEMORY_COUNTERS(X, Stores, "memory.stores")                    \
  FH_MEMORY_COUNTERS(X, Umem, "memory.umem")

// What the kernel gave the book stores and the UMEMs, set once at start
// (util/memory.h): mapped bytes, of them on huge pages, of them off the node
// asked for, and the node holding most.
#define FH_MEMORY_COUNTERS(X, id, name)         \
  X(id##Bytes, name "_bytes")                   \
  X(id##HugePageBytes, name "_huge_page_bytes") \
  X(id##OffNodeBytes, name "_off_node_bytes")   \
  X(id##Node, name "_node")

enum class SourceCounter : uint32_t {
#define FH_SOURCE_ENUM(id, name) id,
  FH_SOURCE_COUNTERS(FH_SOURCE_ENUM)
#undef FH_SOURCE_ENUM
      kCount
};

struct SourceCounterIndex {
  size_t base = 0;        // slot of the first source counter
  size_t xdpReasons = 0;  // slot of xdp.<reason>, FH_REASON_COUNT of them
  size_t queues = 0;      // slot of xsk.queue<N>.frames, one per queue
  size_t queueCount = 0;
  size_t at(SourceCounter c) const noexcept { return base + static_cast<size_t>(c); }
};

inline SourceCounterIndex addSourceCounterNames(std::vector<std::string>& names, const Feed& f) {
  SourceCounterIndex index;
  index.base = names.size();
#define FH_SOURCE_NAME(id, name) names.push_back(name);
  FH_SOURCE_COUNTERS(FH_SOURCE_NAME)
#undef FH_SOURCE_NAME
  index.xdpReasons = names.size();
  for (uint32_t r = 0; r < FH_REASON_COUNT; ++r) names.push_back(std::string("xdp.") + xsk::reasonName(fh_reason(r)));
  index.queues = names.size();
  if (f.source == Source::Xdp) {
    for (const uint32_t q : f.queues) names.push_back("xsk.queue" + std::to_string(q) + ".frames");
    index.queueCount = f.queues.size();
  }
  return index;
}

// The GLIMPSE fetcher's counts (its thread writes them; the worker copies them).
inline void syncFetcherCounters(shm::RegionWriter& w, const SourceCounterIndex& i, const FetcherCounters& c) noexcept {
  const auto set = [&](SourceCounter k, const std::atomic<uint64_t>& v) {
    w.set(i.at(k), v.load(std::memory_order_relaxed));
  };
  set(SourceCounter::FetchAttempts, c.attempts);
  set(SourceCounter::Fetched, c.completed);
  set(SourceCounter::FetchRejected, c.rejected);
  set(SourceCounter::FetchClosed, c.closed);
  set(SourceCounter::FetchSilent, c.silent);
  set(SourceCounter::FetchConnectFailures, c.connectFailures);
  set(SourceCounter::FetchMalformed, c.malformed);
  set(SourceCounter::FetchMs, c.lastFetchMs);
}

template <class Source>
void syncSourceCounters(shm::RegionWriter& w, const SourceCounterIndex& i, const feed::SequencerCounters& a,
                        const Source& source) noexcept {
  const auto set = [&](SourceCounter c, uint64_t v) { w.set(i.at(c), v); };
  const auto line = [&](SourceCounter first, const feed::LineCounters& l) {
    const uint64_t values[] = {l.packets,  l.messages, l.applied, l.duplicates, l.late,
                               l.unparsed, l.foreign,  l.silent,  l.silences};
    for (size_t k = 0; k < std::size(values); ++k) w.set(i.at(first) + k, values[k]);
  };
  line(SourceCounter::LineAPackets, a.line[0]);
  line(SourceCounter::LineBPackets, a.line[1]);
  line(SourceCounter::RepliesPackets, a.line[feed::kRetransmissionLine]);
  set(SourceCounter::LineMalformed, a.line[0].malformed + a.line[1].malformed + a.line[2].malformed);
  const feed::RetransmissionCounters& r = a.retransmission;
  set(SourceCounter::Requests, r.requests);
  set(SourceCounter::Retries, r.retries);
  set(SourceCounter::Failovers, r.failovers);
  set(SourceCounter::SendFailures, r.sendFailures);
  set(SourceCounter::MessagesRequested, r.messagesRequested);
  set(SourceCounter::WrongSession, r.wrongSession);
  set(SourceCounter::Exhausted, r.exhausted);
  set(SourceCounter::InFlight, r.inFlight);
  set(SourceCounter::Duplicates, a.duplicates);
  set(SourceCounter::Held, a.held);
  set(SourceCounter::HeldMessages, a.heldMessages);
  set(SourceCounter::Filled, a.filled);
  set(SourceCounter::Gaps, a.gaps);
  set(SourceCounter::GapMessages, a.gapMessages);
  set(SourceCounter::Heartbeats, a.heartbeats);
  set(SourceCounter::EndOfSession, a.endOfSession);
  set(SourceCounter::SessionChanges, a.sessionChanges);
  set(SourceCounter::ForeignPackets, a.foreignPackets);
  set(SourceCounter::JoinedAt, a.joinedAt);
  const SourceCounters& s = source.counters();
  set(SourceCounter::Datagrams, s.datagrams);
  set(SourceCounter::WrongSource, s.wrongSource);
  set(SourceCounter::Truncated, s.truncated);
  set(SourceCounter::SocketDrops, s.socketDrops);
  set(SourceCounter::BadChecksum, s.badChecksum);
  set(SourceCounter::NotALine, s.notALine);
  if constexpr (requires { source.framesByQueue(); })
    for (size_t q = 0; q < i.queueCount; ++q) w.set(i.queues + q, source.framesByQueue()[q]);
}

template <class Source>
void setModeCounters(shm::RegionWriter& w, const SourceCounterIndex& i, const Source& source) noexcept {
  w.set(i.at(SourceCounter::BusyPolling), source.busyPolling());
  if constexpr (requires { source.zeroCopy(); }) {
    w.set(i.at(SourceCounter::ZeroCopy), source.zeroCopy());
    w.set(i.at(SourceCounter::NativeMode), source.mode() == xsk::XdpMode::Native);
  }
}

// The capture tap's state (the housekeeping thread's, with probeTap()).
inline void syncTapCounters(shm::RegionWriter& w, const SourceCounterIndex& i, bool attached) noexcept {
  w.set(i.at(SourceCounter::TapAttached), attached);
  if (const shm::TapHeader* tap = w.tapHeader()) {
    w.set(i.at(SourceCounter::TapPackets), tap->packets.load(std::memory_order_relaxed));
    w.set(i.at(SourceCounter::TapRefused), tap->refused.load(std::memory_order_relaxed));
  }
}

inline void setMemoryCounters(shm::RegionWriter& w, const SourceCounterIndex& i, const MemoryGrant& stores,
                              const MemoryGrant& umem) noexcept {
  const auto set = [&](SourceCounter first, const MemoryGrant& g) {
    const uint64_t values[] = {g.bytes, g.hugeBytes, g.offNodeBytes, uint64_t(g.node())};
    for (size_t k = 0; k < std::size(values); ++k) w.set(i.at(first) + k, values[k]);
  };
  set(SourceCounter::StoresBytes, stores);
  set(SourceCounter::UmemBytes, umem);
}

inline void syncKernelCounters(shm::RegionWriter& w, const SourceCounterIndex& i, const XdpSource& source) {
  const xsk::SocketStats s = source.socketStats();
  w.set(i.at(SourceCounter::RxDropped), s.rxDropped);
  w.set(i.at(SourceCounter::RxRingFull), s.rxRingFull);
  w.set(i.at(SourceCounter::FillRingEmpty), s.fillRingEmpty);
  w.set(i.at(SourceCounter::RxInvalid), s.rxInvalid);
  const xsk::SteeringCounters c = source.steeringCounters();
  for (uint32_t r = 0; r < FH_REASON_COUNT; ++r) w.set(i.xdpReasons + r, c.byReason[r].packets);
}

}  // namespace fh::daemon
