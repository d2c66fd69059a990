// The sequencer stage: A/B line arbitration for one MoldUDP64 session.
// Packets from both lines come in as they arrive; each message goes out once,
// in sequence order, to an OrderedMessageSink (stages.h). A packet from beyond
// the next expected sequence is held while the other line may still fill the
// hole; when the hole outlives `gapTimeoutNs`, or more packets wait than the
// store holds, the hole is declared a gap (its messages are lost; the sink
// marks the books stale) and the held packets go out.
//
// Sessions: the first packet seen starts the session; if it is not the
// session's first message, the feed was joined in mid-session and the sink is
// told (join): what came before is unknown. A packet of another session is
// dropped and counted until the evidence for the new session is solid: End of
// Session of the old one seen, or the new session seen on both lines (on a
// one-line feed, in kSessionEvidence packets in a row). Then the old
// session's open holes are declared lost, and the new one starts from the
// lowest sequence it showed. One thread; no allocation after construction.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "feed/stages.h"
#include "mold/moldudp64.h"

namespace fh::feed {

struct SequencerConfig {
  uint32_t heldPackets = 256;         // packets that may wait for a hole to fill
  uint64_t gapTimeoutNs = 2'000'000;  // how long a hole may wait for the other line
  uint32_t lines = 2;                 // 1: line A only
};

struct LineCounters {
  uint64_t packets = 0;
  uint64_t messages = 0;  // in its packets, delivered or not
  uint64_t malformed = 0;
};

struct SequencerCounters {
  LineCounters line[2];
  uint64_t duplicates = 0;      // packets whose messages had all gone out already
  uint64_t held = 0;            // packets that waited for a hole
  uint64_t filled = 0;          // holes filled by the other line (or a late packet)
  uint64_t gaps = 0;            // holes declared lost
  uint64_t gapMessages = 0;     // messages lost in them
  uint64_t sessionChanges = 0;  // a new session accepted: sequence starts again
  uint64_t foreignPackets = 0;  // of another session, before its evidence was solid
  uint64_t joinedAt = 0;        // first sequence of a session joined after its start; 0 if none
  uint64_t heartbeats = 0;
  uint64_t endOfSession = 0;
};

template <OrderedMessageSink Output>
class Sequencer {
 public:
  Sequencer(const SequencerConfig& config, Output& out)
      : config_(config), out_(out), store_(size_t{config.heldPackets} * kMaxPacket), held_(config.heldPackets) {}

  // One UDP payload from `line` (0 = A, 1 = B), received at `recvNs`. When it
  // returns, the sink has had every message it will get from this packet (and
  // from held ones it released): endOfPacket() says so.
  void packet(int line, std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    arbitrate(line, payload, recvNs);
    out_.endOfPacket();
  }

  // Called when no packet came for a while, so a hole can still time out.
  void idle(uint64_t nowNs) noexcept {
    expire(nowNs);
    out_.endOfPacket();
  }

  uint64_t nextSequence() const noexcept { return next_; }
  const SequencerCounters& counters() const noexcept { return counters_; }

 private:
  static constexpr size_t kMaxPacket = 2048;
  struct Held {
    uint64_t first = 0, end = 0, recvNs = 0;
    uint16_t bytes = 0;
    uint8_t line = 0;
    bool used = false;
  };

  void arbitrate(int line, std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    LineCounters& lc = counters_.line[line & 1];
    ++lc.packets;
    if (payload.size() < mold::kHeaderLength) {
      ++lc.malformed;
      return;
    }
    const mold::PacketHeader h = mold::readHeader(payload.data());
    if (!started_) {
      startSession(h.session.data(), h.sequence);
    } else if (std::memcmp(session_, h.session.data(), sizeof session_) != 0) {
      if (!newSessionProven(line & 1, h)) {
        ++counters_.foreignPackets;
        return;
      }
      endOldSession(recvNs);
      ++counters_.sessionChanges;
      startSession(h.session.data(), candidateFirst_);
    } else if (candidateLines_ != 0 && !ended_) {
      candidateLines_ = 0;  // the old session goes on: the evidence starts again
      candidateRun_ = 0;
    }
    if (h.count == mold::kEndOfSessionCount) {
      // Its sequence is the session's end: a hole before it is real too.
      if (h.sequence > next_ && h.sequence > announced_) {
        announced_ = h.sequence;
        noteHole(recvNs);
      }
      expire(recvNs);
      if (!ended_) {
        ended_ = true;
        ++counters_.endOfSession;
        out_.endOfSession();
      }
      return;
    }
    if (h.count == 0) {
      ++counters_.heartbeats;
      // A heartbeat says which sequence comes next: a hole before it is real.
      if (h.sequence > next_ && h.sequence > announced_) {
        announced_ = h.sequence;
        noteHole(recvNs);
      }
      expire(recvNs);
      return;
    }
    lc.messages += h.count;
    const uint64_t end = h.sequence + h.count;
    if (end <= next_) {
      ++counters_.duplicates;
      expire(recvNs);
      return;
    }
    if (h.sequence > next_) {
      hold(line & 1, payload, h.sequence, end, recvNs);
      expire(recvNs);
      return;
    }
    emit(line & 1, payload, recvNs);
    release(recvNs);
  }

  static constexpr uint32_t kSessionEvidence = 3;

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
  void endOldSession(uint64_t nowNs) noexcept {
    while (waiting()) {
      const uint64_t before = next_;
      declareGap(nowNs);
      if (next_ == before) break;
    }
  }

  // The session starts (or is joined) at `first`: the first packet's
  // sequence, or the next one a heartbeat announces.
  void startSession(const char* session, uint64_t first) noexcept {
    std::memcpy(session_, session, sizeof session_);
    const bool change = started_;
    started_ = true;
    ended_ = false;
    next_ = first;
    for (Held& x : held_) x.used = false;
    heldCount_ = 0;
    holeSinceNs_ = 0;
    announced_ = 0;
    candidateLines_ = 0;
    candidateRun_ = 0;
    counters_.joinedAt = first > 1 ? first : 0;
    if (change) out_.newSession();
    if (first > 1) out_.join(first);
  }


  // Hands out the packet's messages from next_ on. A malformed packet (its
  // blocks overrun it, or bytes trail them) is counted against its line on
  // every path: directly, from the hold store, or after a gap.
  void emit(int line, std::span<const uint8_t> payload, uint64_t recvNs) noexcept {
    const mold::PacketResult r = mold::forEachMessage(payload, [&](uint64_t seq, const uint8_t* msg, uint16_t n) {
      if (seq >= next_) {
        out_.message(seq, recvNs, msg, n);
        next_ = seq + 1;
      }
    });
    if (r.malformed()) ++counters_.line[line].malformed;
  }

  void hold(int line, std::span<const uint8_t> payload, uint64_t first, uint64_t end, uint64_t recvNs) noexcept {
    for (const Held& x : held_)
      if (x.used && x.first == first && x.end == end) {
        ++counters_.duplicates;  // the other line's copy of a held packet
        return;
      }
    // No room to wait: the oldest hole is lost, which may let held packets go
    // and make room (or make this packet the next one).
    while (heldCount_ == held_.size()) {
      const uint64_t before = next_;
      declareGap(recvNs);
      if (next_ == before) break;
      if (end <= next_) {
        ++counters_.duplicates;
        return;
      }
      if (first <= next_) {
        emit(line, payload, recvNs);
        release(recvNs);
        return;
      }
    }
    if (payload.size() <= kMaxPacket && heldCount_ < held_.size()) {
      for (size_t i = 0; i < held_.size(); ++i)
        if (!held_[i].used) {
          std::memcpy(store_.data() + i * kMaxPacket, payload.data(), payload.size());
          held_[i] = Held{first, end, recvNs, static_cast<uint16_t>(payload.size()), static_cast<uint8_t>(line), true};
          if (heldCount_++ == 0) holeSinceNs_ = recvNs;
          ++counters_.held;
          return;
        }
    }
    // A packet too large to hold: what is missing before it is lost.
    declareGap(recvNs);
    if (end <= next_) {
      ++counters_.duplicates;
      return;
    }
    if (first > next_) lose(first);
    emit(line, payload, recvNs);
    release(recvNs);
  }

  // Sends every held packet that now continues the sequence, in order. The
  // sink is done with their bytes before any slot can be taken again.
  void release(uint64_t recvNs) noexcept {
    bool progress = true, emitted = false;
    while (heldCount_ > 0 && progress) {
      progress = false;
      for (size_t i = 0; i < held_.size(); ++i) {
        Held& x = held_[i];
        if (!x.used || x.first > next_) continue;
        x.used = false;
        --heldCount_;
        if (x.end > next_) {
          ++counters_.filled;
          emit(x.line, {store_.data() + i * kMaxPacket, x.bytes}, x.recvNs);
          emitted = true;
        }
        progress = true;
      }
    }
    if (emitted) out_.endOfPacket();
    holeSinceNs_ = waiting() ? recvNs : 0;
  }

  void noteHole(uint64_t nowNs) noexcept {
    if (holeSinceNs_ == 0) holeSinceNs_ = nowNs;
  }

  bool waiting() const noexcept { return heldCount_ > 0 || announced_ > next_; }

  void expire(uint64_t nowNs) noexcept {
    if (!waiting() || holeSinceNs_ == 0 || nowNs < holeSinceNs_ + config_.gapTimeoutNs) return;
    declareGap(nowNs);
  }

  // Gives up on the hole before the lowest held packet (or the sequence a
  // heartbeat announced).
  void declareGap(uint64_t nowNs) noexcept {
    uint64_t lowest = announced_ > next_ ? announced_ : UINT64_MAX;
    for (const Held& x : held_)
      if (x.used && x.first < lowest) lowest = x.first;
    if (lowest == UINT64_MAX || lowest <= next_) return;
    lose(lowest);
    release(nowNs);
  }

  void lose(uint64_t upTo) noexcept {
    ++counters_.gaps;
    counters_.gapMessages += upTo - next_;
    out_.gap(next_, upTo - next_);
    next_ = upTo;
  }

  SequencerConfig config_;
  Output& out_;
  std::vector<uint8_t> store_;
  std::vector<Held> held_;
  size_t heldCount_ = 0;
  uint64_t holeSinceNs_ = 0;
  char session_[10] = {};
  char candidate_[10] = {};      // another session, while its evidence gathers
  uint32_t candidateLines_ = 0;  // bit per line that showed it
  uint32_t candidateRun_ = 0;    // its packets since the current session's last
  uint64_t candidateFirst_ = 0;  // the lowest sequence it showed
  bool started_ = false;
  bool ended_ = false;
  uint64_t next_ = 0;
  uint64_t announced_ = 0;  // next sequence according to the latest heartbeat
  SequencerCounters counters_;
};

}  // namespace fh::feed
