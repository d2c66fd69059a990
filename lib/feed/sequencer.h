// The sequencer stage: A/B line arbitration and recovery for one MoldUDP64
// session. Packets from both lines come in as they arrive; each message goes
// out once, in sequence order, to an OrderedMessageSink (stages.h). A packet
// from beyond the next expected sequence is held (held_packets.h) while the
// other line may still fill the hole. When the hole has waited `gapTimeoutNs`:
//   - with re-request servers configured, its range is requested from them
//     (MoldUDP64 request packets through a RequestChannel, at most `inFlight`
//     at once); an unanswered request is sent again after `timeoutNs`, the
//     wait doubling, `attempts` times a server before the next one is tried.
//     Replies come back through retransmission() and are sequenced like a
//     third line; only a reply of the current session is taken;
//   - without servers, or once every server has been tried, the hole is
//     declared a gap: its messages are lost, the sink marks the books stale,
//     and the held packets go out.
// A full hold store loses the oldest hole at once, whatever is in flight.
//
// Sessions: the first packet seen starts the session; if it is not the
// session's first message, the feed was joined in mid-session and the sink is
// told (join): what came before is unknown. A packet of another session is
// dropped and counted until the evidence for the new session is solid: End of
// Session of the old one seen, or the new session seen on both lines (on a
// one-line feed, in kSessionEvidence packets in a row). Then the old
// session's open holes are declared lost, and the new one starts from the
// lowest sequence it showed.
//
// Every message received is accounted for, per line (A, B, retransmission):
//   messages = applied + duplicates + late + unparsed + foreign + held now
// (late: of a range already declared lost), and lost = recovered (applied
// from retransmission) + unrecovered (gapMessages). A line that sends nothing,
// not even a heartbeat, for `lineSilenceNs` while the session is open is
// reported silent until it sends again. One thread; no allocation after
// construction.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "feed/held_packets.h"
#include "feed/stages.h"
#include "mold/moldudp64.h"
#include "util/bytes.h"

namespace fh::feed {

struct RetransmissionConfig {
  uint32_t servers = 0;            // 0: no retransmission
  uint64_t timeoutNs = 5'000'000;  // a request unanswered this long is sent again (the wait doubles)
  uint32_t attempts = 3;           // per server, before the next one is tried
  uint32_t maxMessages = 0xFFFE;   // per request (MoldUDP64 allows 0xFFFE)
  uint32_t inFlight = 8;           // requests outstanding at once
};

struct SequencerConfig {
  uint32_t heldPackets = 1024;             // packets that may wait for a hole to fill
  uint64_t gapTimeoutNs = 2'000'000;       // how long a hole waits for the other line
  uint32_t lines = 2;                      // 1: line A only
  uint64_t lineSilenceNs = 3'000'000'000;  // a line this long without a packet is silent; 0: not watched
  RetransmissionConfig retransmission{};
};

inline constexpr int kRetransmissionLine = 2;  // LineCounters index of the replies

struct LineCounters {
  uint64_t packets = 0;
  uint64_t messages = 0;    // in its data packets, as their headers count them
  uint64_t malformed = 0;   // packets: truncated, blocks overrunning it, or trailing bytes
  uint64_t applied = 0;     // messages handed on
  uint64_t duplicates = 0;  // messages handed on already
  uint64_t late = 0;        // messages of a range declared lost before they came
  uint64_t unparsed = 0;    // messages a malformed packet counted but did not carry
  uint64_t foreign = 0;     // messages of another session, before it was accepted
  uint64_t silences = 0;    // times the line fell silent
  uint64_t silent = 0;      // 1 while it is
};

struct RetransmissionCounters {
  uint64_t requests = 0;      // request packets sent, retries included
  uint64_t retries = 0;       // requests sent again after a timeout
  uint64_t failovers = 0;     // a request moved on to the next server
  uint64_t sendFailures = 0;  // requests the channel could not send
  uint64_t messagesRequested = 0;
  uint64_t wrongSession = 0;  // replies of another session, dropped
  uint64_t exhausted = 0;     // requests no server answered: their messages are lost
  uint64_t inFlight = 0;      // requests outstanding now
};

struct SequencerCounters {
  LineCounters line[3];  // A, B, retransmission replies
  RetransmissionCounters retransmission;
  uint64_t duplicates = 0;      // packets whose messages had all gone out already
  uint64_t held = 0;            // packets that waited for a hole
  uint64_t heldMessages = 0;    // messages waiting now
  uint64_t filled = 0;          // holes filled by the other line (or a late packet)
  uint64_t gaps = 0;            // holes declared lost
  uint64_t gapMessages = 0;     // messages lost in them: unrecovered
  uint64_t sessionChanges = 0;  // a new session accepted: sequence starts again
  uint64_t foreignPackets = 0;  // of another session, before its evidence was solid
  uint64_t joinedAt = 0;        // first sequence of a session joined after its start; 0 if none
  uint64_t heartbeats = 0;
  uint64_t endOfSession = 0;

  uint64_t recovered() const noexcept { return line[kRetransmissionLine].applied; }
};

// A sequencer with no re-request server.
struct NoRequests {
  bool request(uint32_t, std::span<const uint8_t>) noexcept { return false; }
};
static_assert(RequestChannel<NoRequests>);

template <OrderedMessageSink Output, RequestChannel Requests = NoRequests>
class Sequencer {
 public:
  Sequencer(const SequencerConfig& config, Output& out, Requests* channel = nullptr)
      : config_(config), out_(out), channel_(channel), held_(config.heldPackets) {
    if (channel_ == nullptr) config_.retransmission.servers = 0;
    pending_.reserve(kMaxRequests);
    config_.retransmission.maxMessages = std::clamp<uint32_t>(config_.retransmission.maxMessages, 1, 0xFFFE);
    config_.retransmission.attempts = std::max<uint32_t>(config_.retransmission.attempts, 1);
    config_.retransmission.inFlight = std::clamp<uint32_t>(config_.retransmission.inFlight, 1, kMaxRequests);
  }

  // One UDP payload from `line` (0 = A, 1 = B), received at `recvNs`. When it
  // returns, the sink has had every message it will get from this packet (and
  // from held ones it released): endOfPacket() says so.
  void packet(int line, std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    arbitrate(line & 1, payload, recvNs);
    out_.endOfPacket();
  }

  // A re-request server's reply: a downstream packet, sent to us alone.
  void retransmission(std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    LineCounters& lc = counters_.line[kRetransmissionLine];
    ++lc.packets;
    if (payload.size() < mold::kHeaderLength) {
      ++lc.malformed;
    } else if (const mold::PacketHeader h = mold::readHeader(payload.data());
               !started_ || std::memcmp(session_, h.session.data(), sizeof session_) != 0) {
      ++counters_.retransmission.wrongSession;
    } else if (h.sequence > UINT64_MAX - mold::kEndOfSessionCount) {
      ++lc.malformed;
    } else if (h.count != 0 && h.count != mold::kEndOfSessionCount) {
      lc.messages += h.count;
      sequence(kRetransmissionLine, payload, h, recvNs);
      answered(h.sequence, h.sequence + h.count, recvNs);
      recover(recvNs);
    }
    out_.endOfPacket();
  }

  // Called when no packet came for a while, so a hole can still time out,
  // a request be sent again, a silent line be noticed.
  void idle(uint64_t nowNs) noexcept {
    recover(nowNs);
    watchLines(nowNs);
    out_.endOfPacket();
  }

  uint64_t nextSequence() const noexcept { return next_; }
  const SequencerCounters& counters() const noexcept { return counters_; }
  // Requests are outstanding: replies are worth reading.
  bool awaitingReplies() const noexcept { return counters_.retransmission.inFlight > 0; }

 private:
  static constexpr uint32_t kMaxRequests = 64;
  static constexpr uint32_t kSessionEvidence = 3;
  static constexpr size_t kLostRanges = 256;

  struct Request {
    uint64_t first = 0, end = 0;  // still wanted
    uint64_t deadlineNs = 0;
    uint32_t attempt = 0;
    uint32_t server = 0;
    bool exhausted = false;  // every server tried: lost once it is the oldest hole
  };
  struct Range {
    uint64_t first = 0, end = 0;
  };

  void arbitrate(int line, std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    LineCounters& lc = counters_.line[line];
    ++lc.packets;
    lastPacketNs_[line] = recvNs;
    lc.silent = 0;
    if (payload.size() < mold::kHeaderLength) {
      ++lc.malformed;
      return;
    }
    const mold::PacketHeader h = mold::readHeader(payload.data());
    const bool data = h.count != 0 && h.count != mold::kEndOfSessionCount;
    if (h.sequence > UINT64_MAX - mold::kEndOfSessionCount) {  // its sequences would wrap: no feed sends that
      ++lc.malformed;
      return;
    }
    if (data) lc.messages += h.count;
    if (!started_) {
      startSession(h.session.data(), h.sequence, recvNs);
    } else if (std::memcmp(session_, h.session.data(), sizeof session_) != 0) {
      if (!newSessionProven(line, h)) {
        ++counters_.foreignPackets;
        if (data) lc.foreign += h.count;
        return;
      }
      endOldSession();
      ++counters_.sessionChanges;
      startSession(h.session.data(), candidateFirst_, recvNs);
    } else if (candidateLines_ != 0 && !ended_) {
      candidateLines_ = 0;  // the old session goes on: the evidence starts again
      candidateRun_ = 0;
    }
    if (!data) {
      if (h.count == 0) ++counters_.heartbeats;
      // Heartbeat and End of Session both say which sequence comes next: a hole before it is real.
      announce(h.sequence, recvNs);
      recover(recvNs);
      if (h.count == mold::kEndOfSessionCount && !ended_) {
        ended_ = true;
        ++counters_.endOfSession;
        out_.endOfSession();
      }
      return;
    }
    sequence(line, payload, h, recvNs);
  }

  // A data packet of the current session, from a line or a retransmission.
  void sequence(int line, std::span<const uint8_t> payload, const mold::PacketHeader& h, uint64_t recvNs) noexcept {
    const uint64_t end = h.sequence + h.count;
    if (end <= next_) {
      ++counters_.duplicates;
      countStale(counters_.line[line], h.sequence, end);
      recover(recvNs);
      return;
    }
    if (h.sequence > next_) {
      hold(line, payload, h.sequence, end, recvNs);
      recover(recvNs);
      return;
    }
    emit(line, payload, recvNs);
    release();
  }

  // A packet of a session other than the current one: is the new session proven?
  bool newSessionProven(int line, const mold::PacketHeader& h) noexcept {
    if (candidateLines_ == 0 || std::memcmp(candidate_, h.session.data(), sizeof candidate_) != 0) {
      std::memcpy(candidate_, h.session.data(), sizeof candidate_);
      candidateLines_ = 0;
      candidateRun_ = 0;
      candidateFirst_ = h.sequence;
    }
    candidateLines_ |= 1u << line;
    ++candidateRun_;
    if (h.sequence < candidateFirst_) candidateFirst_ = h.sequence;
    return ended_ || candidateLines_ == 3 || (config_.lines < 2 && candidateRun_ >= kSessionEvidence);
  }

  // The old session is over: what it still owes is lost; what is held goes out first.
  void endOldSession() noexcept {
    while (waiting()) {
      const uint64_t before = next_;
      loseOldestHole();
      if (next_ == before) break;
    }
  }

  // The session starts (or is joined) at `first`: the first packet's
  // sequence, or the lowest one a new session showed.
  void startSession(const char* session, uint64_t first, uint64_t nowNs) noexcept {
    std::memcpy(session_, session, sizeof session_);
    const bool change = started_;
    started_ = true;
    ended_ = false;
    next_ = first;
    counters_.heldMessages -= heldMessagesOf(0, held_.size());
    held_.clear();
    pending_.clear();
    counters_.retransmission.inFlight = 0;
    lost_ = 0;
    announced_ = 0;
    nextSweepNs_ = UINT64_MAX;
    candidateLines_ = 0;
    candidateRun_ = 0;
    sessionStartNs_ = nowNs;
    counters_.joinedAt = first > 1 ? first : 0;
    if (change) out_.newSession();
    if (first > 1) out_.join(first);
  }

  // Hands out the packet's messages from next_ on. A malformed packet (its
  // blocks overrun it, or bytes trail them) is counted against its line once:
  // here, or when it was held.
  void emit(int line, std::span<const uint8_t> payload, uint64_t recvNs, bool countMalformed = true) noexcept {
    LineCounters& lc = counters_.line[line];
    const mold::PacketResult r = mold::forEachMessage(payload, [&](uint64_t seq, const uint8_t* msg, uint16_t n) {
      if (seq >= next_) {
        out_.message(seq, recvNs, msg, n);
        next_ = seq + 1;
        ++lc.applied;
      } else {
        countStale(lc, seq, seq + 1);
      }
    });
    if (r.malformed() && countMalformed) {
      ++lc.malformed;
      if (r.kind == mold::PacketKind::Overrun) lc.unparsed += r.header.count - r.blocks;
    }
  }

  void hold(int line, std::span<const uint8_t> payload, uint64_t first, uint64_t end, uint64_t recvNs) noexcept {
    LineCounters& lc = counters_.line[line];
    // What the packet really carries: a malformed one only its complete
    // blocks (and it is counted now), so that a good copy from the other line
    // is not taken for a duplicate of it.
    const mold::PacketResult shape = mold::forEachMessage(payload, [](uint64_t, const uint8_t*, uint16_t) {});
    if (shape.malformed()) {
      ++lc.malformed;
      if (shape.kind == mold::PacketKind::Overrun) lc.unparsed += (end - first) - shape.blocks;
      end = first + shape.blocks;
      if (end == first) return;
    }
    if (held_.contains(first, end)) {
      ++counters_.duplicates;  // the other line's copy of a held packet
      lc.duplicates += end - first;
      return;
    }
    // No room to wait (or too large to keep): the holes before this packet
    // are given up, oldest first, until it can wait or comes next. Nothing it
    // carries is lost.
    const bool tooLarge = payload.size() > HeldPackets::kMaxPacket;
    while ((held_.full() || tooLarge) && first > next_) {
      lose(held_.empty() ? first : std::min(first, held_.front().first));
      release();
    }
    if (end <= next_) {  // the packets released made it a duplicate
      ++counters_.duplicates;
      countStale(lc, first, end);
      return;
    }
    if (first <= next_) {
      emit(line, payload, recvNs, false);
      release();
      return;
    }
    held_.add(payload, first, end, recvNs, static_cast<uint8_t>(line));
    ++counters_.held;
    counters_.heldMessages += end - first;
    nextSweepNs_ = std::min(nextSweepNs_, recvNs + config_.gapTimeoutNs);
    for (const Request& r : pending_)
      if (r.first < end && first < r.end) nextSweepNs_ = 0;  // it brought what was asked for: look again
  }

  // Sends every held packet that now continues the sequence, in order. The
  // sink is done with their bytes before any slot can be taken again.
  void release() noexcept {
    size_t n = 0;
    bool emitted = false;
    for (; n < held_.size() && held_[n].first <= next_; ++n) {
      const HeldPackets::Entry& e = held_[n];
      if (e.end > next_) {
        ++counters_.filled;
        emit(e.line, held_.bytes(e), e.recvNs, false);  // its faults were counted when it was held
        emitted = true;
      } else {
        ++counters_.duplicates;
        countStale(counters_.line[e.line], e.first, e.end);
      }
    }
    if (n == 0) return;
    if (emitted) out_.endOfPacket();
    counters_.heldMessages -= heldMessagesOf(0, n);
    held_.popFront(n);
    nextSweepNs_ = 0;  // the holes moved: look at them again
  }

  uint64_t heldMessagesOf(size_t from, size_t to) const noexcept {
    uint64_t m = 0;
    for (size_t i = from; i < to; ++i) m += held_[i].end - held_[i].first;
    return m;
  }

  void announce(uint64_t next, uint64_t nowNs) noexcept {
    if (next <= next_ || next <= announced_) return;
    announcedNs_ = nowNs;  // the hole at the end grew: it waits from now (never less than its newest part)
    announced_ = next;
    nextSweepNs_ = std::min(nextSweepNs_, nowNs + config_.gapTimeoutNs);
  }

  bool waiting() const noexcept { return !held_.empty() || announced_ > next_; }

  // --- Recovery: each open hole, oldest first, after it waited gapTimeoutNs ---

  void recover(uint64_t nowNs) noexcept {
    if (!waiting()) {
      if (!pending_.empty()) {
        pending_.clear();
        counters_.retransmission.inFlight = 0;
      }
      nextSweepNs_ = UINT64_MAX;
      return;
    }
    if (nowNs < nextSweepNs_) return;
    // Each pass walks the holes; it starts again after the oldest is lost.
    while (sweep(nowNs)) {
    }
  }

  // False when done; true when the oldest hole was lost (the holes changed).
  bool sweep(uint64_t nowNs) noexcept {
    nextSweepNs_ = UINT64_MAX;
    retireAnswered();
    visited_ = 0;
    uint64_t cursor = next_;
    size_t i = 0;
    bool oldest = true;
    for (;;) {
      while (i < held_.size() && held_[i].first <= cursor) cursor = std::max(cursor, held_[i++].end);
      uint64_t end = 0, knownNs = 0;
      if (i < held_.size()) {
        end = held_[i].first;
        knownNs = held_[i].recvNs;
      } else if (announced_ > cursor) {
        end = announced_;
        knownNs = announcedNs_;
      } else {
        // Every hole seen: a request that none of them needs any more (the
        // lines brought what it asked for) is done.
        size_t k = 0;
        std::erase_if(pending_, [&](const Request&) { return (visited_ >> k++ & 1) == 0; });
        counters_.retransmission.inFlight = inFlight();
        return false;
      }
      if (!hole(cursor, end, knownNs, nowNs, oldest)) return true;
      oldest = false;
      cursor = end;
    }
  }

  // One hole, first .. end-1: request its parts (up to maxMessages each, as
  // many at once as inFlight allows), send a part again, or give up. A part
  // no server had is lost once nothing before it is still awaited. False when
  // something was lost (the holes changed).
  bool hole(uint64_t first, uint64_t end, uint64_t knownNs, uint64_t nowNs, bool oldest) noexcept {
    const RetransmissionConfig& rc = config_.retransmission;
    for (size_t k = 0; k < pending_.size(); ++k)  // still needed: it asks for part of this hole
      if (pending_[k].first < end && first < pending_[k].end) visited_ |= uint64_t{1} << k;
    for (uint64_t cursor = first; cursor < end;) {
      Request* r = nullptr;
      uint64_t nextRequested = end;  // where the next request after cursor begins
      for (Request& x : pending_) {
        if (x.first <= cursor && cursor < x.end) r = &x;
        if (x.first > cursor && x.first < nextRequested) nextRequested = x.first;
      }
      if (r == nullptr) {
        const uint64_t due = knownNs + config_.gapTimeoutNs;
        if (nowNs < due) return later(due);
        if (rc.servers == 0) return oldest ? loseHoleTo(end) : true;  // lost in turn, oldest first
        // No room: a reply, or a younger request's timeout, makes some; look again by then.
        if (inFlight() >= rc.inFlight || pending_.size() >= kMaxRequests) return later(nowNs + rc.timeoutNs);
        const uint64_t upTo = std::min(nextRequested, cursor + rc.maxMessages);
        pending_.push_back(Request{cursor, upTo, 0, 0, server_, false});
        visited_ |= uint64_t{1} << (pending_.size() - 1);  // needed: it asks for this hole
        send(pending_.back(), nowNs);
        later(pending_.back().deadlineNs);
        cursor = upTo;
        continue;
      }
      if (!r->exhausted && nowNs >= r->deadlineNs) {
        // Unanswered: again, then the next server, then give up.
        if (++r->attempt >= uint64_t{rc.attempts} * rc.servers) {
          r->exhausted = true;
          ++counters_.retransmission.exhausted;
          counters_.retransmission.inFlight = inFlight();
        } else {
          if (r->attempt % rc.attempts == 0) {
            r->server = (r->server + 1) % rc.servers;
            server_ = r->server;  // later requests go where answers may come from
            ++counters_.retransmission.failovers;
          }
          ++counters_.retransmission.retries;
          send(*r, nowNs);
        }
      }
      if (r->exhausted) {
        if (oldest && cursor == first) return loseHoleTo(std::min(end, r->end));
      } else {
        later(r->deadlineNs);
      }
      cursor = r->end;
    }
    return true;
  }

  bool later(uint64_t dueNs) noexcept {
    nextSweepNs_ = std::min(nextSweepNs_, dueNs);
    return true;
  }

  bool loseHoleTo(uint64_t end) noexcept {
    lose(end);
    release();
    return false;
  }

  void send(Request& r, uint64_t nowNs) noexcept {
    uint8_t packet[mold::kHeaderLength];
    std::memcpy(packet, session_, sizeof session_);
    storeBe64(packet + 10, r.first);
    storeBe16(packet + 18, static_cast<uint16_t>(r.end - r.first));
    if (!channel_->request(r.server, packet)) ++counters_.retransmission.sendFailures;
    ++counters_.retransmission.requests;
    counters_.retransmission.messagesRequested += r.end - r.first;
    const uint32_t step = r.attempt % config_.retransmission.attempts;
    r.deadlineNs = nowNs + (config_.retransmission.timeoutNs << std::min<uint32_t>(step, 16));
    counters_.retransmission.inFlight = inFlight();
  }

  // A reply brought first .. end-1: the requests it answered are done; one it
  // answered in part (a server caps its replies) asks at once for the rest.
  void answered(uint64_t first, uint64_t end, uint64_t nowNs) noexcept {
    for (Request& r : pending_) {
      if (r.exhausted || r.first < first || r.first >= end) continue;
      r.first = std::max(end, next_);
      if (r.first < r.end) {
        r.attempt -= r.attempt % config_.retransmission.attempts;  // progress: the wait starts over
        send(r, nowNs);
      }
    }
    retireAnswered();
    nextSweepNs_ = 0;  // room for a request: look at the holes again
  }

  void retireAnswered() noexcept {
    std::erase_if(pending_, [&](Request& r) {
      if (r.first < next_) r.first = next_;
      return r.first >= r.end;
    });
    counters_.retransmission.inFlight = inFlight();
  }

  uint64_t inFlight() const noexcept {
    uint64_t n = 0;
    for (const Request& r : pending_) n += r.exhausted ? 0 : 1;
    return n;
  }

  // The oldest hole is given up now (the store is full, or the session over).
  void loseOldestHole() noexcept {
    const uint64_t end = !held_.empty() ? held_.front().first : announced_;
    if (end <= next_) return;
    lose(end);
    release();
  }

  void lose(uint64_t upTo) noexcept {
    ++counters_.gaps;
    counters_.gapMessages += upTo - next_;
    lostRanges_[lost_++ % kLostRanges] = Range{next_, upTo};
    out_.gap(next_, upTo - next_);
    next_ = upTo;
  }

  // Messages first .. end-1, all before next_: handed on already, or of a
  // range declared lost (late). Lost ranges are in sequence order; the latest
  // kLostRanges are remembered.
  void countStale(LineCounters& lc, uint64_t first, uint64_t end) noexcept {
    uint64_t late = 0;
    const size_t known = std::min<size_t>(lost_, kLostRanges);
    for (size_t k = 0; k < known; ++k) {
      const Range& r = lostRanges_[(lost_ - 1 - k) % kLostRanges];
      if (r.end <= first) break;  // older ranges lie further back still
      const uint64_t a = std::max(first, r.first), b = std::min(end, r.end);
      if (a < b) late += b - a;
    }
    lc.late += late;
    lc.duplicates += end - first - late;
  }

  void watchLines(uint64_t nowNs) noexcept {
    if (config_.lineSilenceNs == 0 || !started_ || ended_) return;
    for (uint32_t l = 0; l < std::min<uint32_t>(config_.lines, 2); ++l) {
      LineCounters& lc = counters_.line[l];
      const uint64_t last = std::max(lastPacketNs_[l], sessionStartNs_);
      if (lc.silent == 0 && nowNs > last + config_.lineSilenceNs) {
        lc.silent = 1;
        ++lc.silences;
      }
    }
  }

  SequencerConfig config_;
  Output& out_;
  Requests* channel_;
  HeldPackets held_;
  std::vector<Request> pending_;  // requests not yet answered in full
  uint64_t visited_ = 0;          // bit per pending_ request that a hole still needs, in the current sweep
  uint32_t server_ = 0;           // where new requests go
  uint64_t nextSweepNs_ = UINT64_MAX;
  std::array<Range, kLostRanges> lostRanges_{};
  uint64_t lost_ = 0;  // ranges declared lost this session
  char session_[10] = {};
  char candidate_[10] = {};      // another session, while its evidence gathers
  uint32_t candidateLines_ = 0;  // bit per line that showed it
  uint32_t candidateRun_ = 0;    // its packets since the current session's last
  uint64_t candidateFirst_ = 0;  // the lowest sequence it showed
  bool started_ = false;
  bool ended_ = false;
  uint64_t next_ = 0;
  uint64_t announced_ = 0;  // next sequence according to the latest heartbeat
  uint64_t announcedNs_ = 0;
  uint64_t lastPacketNs_[2] = {};
  uint64_t sessionStartNs_ = 0;
  SequencerCounters counters_;
};

}  // namespace fh::feed
