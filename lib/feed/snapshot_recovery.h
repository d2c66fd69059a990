// The snapshot stage, between the sequencer and the protocol handler: when
// the feed is joined in mid-session, or a hole is lost for good, the books
// cannot be trusted until a snapshot (GLIMPSE) rebuilds them. From that
// moment the stage keeps a copy of every live message (bounded: the oldest
// go first when it is full) while still handing them on, and asks for a
// snapshot through its channel. When the daemon's fetcher has one, load()
// merges it on the worker thread: the books start empty, take the
// snapshot's messages (records flagged SNAPSHOT), then the buffered live
// messages from End of Snapshot's sequence on (those before it are in the
// snapshot), and are declared complete (BookRecovered). A snapshot that ends
// before the first message still buffered cannot be merged: it is counted
// and another is asked for. After a merge the next `checkMessages` live
// messages are watched for the signs of an off-by-one in the End of
// Snapshot's reading: an Add of an order already live, a reference to an
// order not known. One worker thread; the buffer is allocated once.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "book/order_book.h"
#include "feed/stages.h"

namespace fh::feed {

struct SnapshotConfig {
  bool enabled = false;
  uint32_t bufferMessages = 1u << 20;  // live messages kept while a snapshot is on its way
  uint32_t bufferBytes = 64u << 20;
  uint32_t checkMessages = 10000;  // live messages watched after a merge
};

struct SnapshotCounters {
  uint64_t requests = 0;        // times a snapshot was needed (a join, a lost hole)
  uint64_t loaded = 0;          // snapshots merged
  uint64_t messages = 0;        // snapshot messages applied, in all
  uint64_t orders = 0;          // Add Orders among them
  uint64_t buffered = 0;        // live messages copied while waiting, in all
  uint64_t replayed = 0;        // buffered messages applied after a snapshot
  uint64_t covered = 0;         // buffered or later live messages the snapshot already held (skipped)
  uint64_t overflowed = 0;      // buffered messages dropped, oldest first, from a full buffer
  uint64_t unusable = 0;        // snapshots that ended before the buffer's first message
  uint64_t suspectAdds = 0;     // after a merge: Adds of orders already live
  uint64_t suspectUnknown = 0;  // after a merge: references to orders not live
  uint64_t lastSequence = 0;    // End of Snapshot's, of the last snapshot merged
  uint64_t mergedNs = 0;        // when it was merged (the time load() was given)
  uint64_t waiting = 0;         // 1 while books wait for a snapshot
};

// Where the stage asks for a snapshot: the daemon's fetcher (a thread of its
// own), told by a plain function. `generation` comes back with the snapshot,
// so that one asked for before a new session is not merged after it.
struct SnapshotChannel {
  void (*request)(void* context, uint64_t generation) noexcept = nullptr;
  void* context = nullptr;
};

// What the stage needs of the handler beyond a sink of ordered messages.
template <class H>
concept SnapshotTarget = OrderedMessageSink<H> &&
    requires(H& h, const H& ch, const uint8_t* msg, uint16_t n, uint64_t recvNs) {
  { h.beginSnapshot() }
  noexcept;  // books empty, not yet complete
  { h.snapshotMessage(recvNs, msg, n) }
  noexcept;  // one message of the snapshot
  { h.snapshotComplete() }
  noexcept;  // every book proven complete
  { ch.books().counters() } -> std::convertible_to<const book::BookCounters&>;
};

template <SnapshotTarget Handler>
class SnapshotRecovery {
 public:
  SnapshotRecovery(const SnapshotConfig& config, Handler& handler, SnapshotChannel channel = {})
      : config_(config), handler_(handler), channel_(channel) {
    if (config_.enabled) {
      entries_.resize(config_.bufferMessages);
      bytes_.resize(config_.bufferBytes);
    }
  }

  // --- OrderedMessageSink, from the sequencer ---
  void message(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    nextLive_ = sequence + 1;
    if (sequence < coveredUntil_) {  // the merged snapshot already has it
      ++counters_.covered;
      return;
    }
    if (waiting_) keep(sequence, recvNs, msg, length);
    watch(sequence, recvNs, msg, length);
  }
  void gap(uint64_t first, uint64_t count) noexcept {
    handler_.gap(first, count);
    if (first + count > nextLive_) nextLive_ = first + count;
    holeEnd_ = first + count;  // a snapshot must reach past the hole
    need();
  }
  void endOfSession() noexcept {
    handler_.endOfSession();
    if (watchLeft_ > 0) settleWatch();
  }
  void join(uint64_t sequence) noexcept {
    handler_.join(sequence);
    nextLive_ = sequence;
    need();
  }
  void newSession() noexcept {
    handler_.newSession();
    ++generation_;  // a snapshot of the old session is not merged
    waiting_ = false;
    counters_.waiting = 0;
    clear();
    coveredUntil_ = holeEnd_ = 0;
    watchLeft_ = 0;
  }
  void endOfPacket() noexcept { handler_.endOfPacket(); }

  // --- from the daemon's fetcher, on the worker thread ---
  // `blocks`: the snapshot's messages, each a 2-byte big-endian length and
  // the message; `next`: End of Snapshot's sequence (the first live message
  // to apply). False when it was not merged (not needed any more, or
  // unusable: another is then asked for).
  bool load(uint64_t generation, std::span<const uint8_t> blocks, uint64_t next, uint64_t recvNs) noexcept {
    if (!waiting_ || generation != generation_) return false;
    const uint64_t firstKept = count_ > 0 ? entries_[head_].sequence : nextLive_;
    if (next < firstKept || next < holeEnd_) {  // messages before firstKept (or in the hole) are in neither
      ++counters_.unusable;
      ask();
      return false;
    }
    if (watchLeft_ > 0) settleWatch();
    handler_.beginSnapshot();
    for (size_t at = 0; at + 2 <= blocks.size();) {
      const uint16_t n = static_cast<uint16_t>(blocks[at] << 8 | blocks[at + 1]);
      if (at + 2 + n > blocks.size()) break;
      const uint8_t* msg = blocks.data() + at + 2;
      handler_.snapshotMessage(recvNs, msg, n);
      ++counters_.messages;
      counters_.orders += n > 0 && (msg[0] == 'A' || msg[0] == 'F');
      at += 2 + size_t{n};
    }
    handler_.endOfPacket();
    // From here on, a sign of an off-by-one is counted.
    const book::BookCounters& c = handler_.books().counters();
    watchAdds_ = c.duplicateOrder;
    watchUnknown_ = c.unknownOrder;
    watchLeft_ = config_.checkMessages;
    for (; count_ > 0; pop()) {
      const Entry& e = entries_[head_];
      if (e.sequence < next) {
        ++counters_.covered;
        continue;
      }
      watch(e.sequence, e.recvNs, bytes_.data() + e.offset, e.length);
      ++counters_.replayed;
    }
    handler_.endOfPacket();
    clear();
    coveredUntil_ = next > nextLive_ ? next : 0;  // live messages still to come that it holds
    holeEnd_ = 0;
    waiting_ = false;
    counters_.waiting = 0;
    ++counters_.loaded;
    counters_.lastSequence = next;
    counters_.mergedNs = recvNs;
    handler_.snapshotComplete();
    return true;
  }

  bool waiting() const noexcept { return waiting_; }
  uint64_t generation() const noexcept { return generation_; }
  // The off-by-one signs include those of the watch still running.
  SnapshotCounters counters() const noexcept {
    SnapshotCounters c = counters_;
    if (watchLeft_ > 0) {
      const book::BookCounters& b = handler_.books().counters();
      c.suspectAdds += b.duplicateOrder - watchAdds_;
      c.suspectUnknown += b.unknownOrder - watchUnknown_;
    }
    return c;
  }

 private:
  struct Entry {
    uint64_t sequence;
    uint64_t recvNs;
    uint32_t offset;  // in bytes_
    uint16_t length;
  };

  // Books can no longer be trusted: ask for a snapshot, once until one is merged.
  void need() noexcept {
    if (!config_.enabled || waiting_) return;
    waiting_ = true;
    counters_.waiting = 1;
    ++counters_.requests;
    ask();
  }
  void ask() noexcept {
    if (channel_.request != nullptr) channel_.request(channel_.context, generation_);
  }

  // A live message handed on, counted against the off-by-one watch.
  void watch(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    handler_.message(sequence, recvNs, msg, length);
    if (watchLeft_ > 0 && watchLeft_-- == 1) settleWatch();
  }
  void settleWatch() noexcept {
    handler_.endOfPacket();  // the books' counters are current once the window is drained
    const book::BookCounters& c = handler_.books().counters();
    counters_.suspectAdds += c.duplicateOrder - watchAdds_;
    counters_.suspectUnknown += c.unknownOrder - watchUnknown_;
    watchLeft_ = 0;
  }

  // The bounded copy of the live stream: a ring of entries over a ring of bytes.
  void keep(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    if (length > bytes_.size()) {
      ++counters_.overflowed;
      return;
    }
    while (count_ == entries_.size() || !room(length)) {
      pop();
      ++counters_.overflowed;
    }
    uint32_t offset = byteTail_;
    if (offset + length > bytes_.size()) offset = 0;  // no message wraps: start again at the front
    std::memcpy(bytes_.data() + offset, msg, length);
    entries_[(head_ + count_) % entries_.size()] = Entry{sequence, recvNs, offset, length};
    ++count_;
    byteTail_ = offset + length;
    ++counters_.buffered;
  }
  // Whether `length` bytes fit after the newest message without overwriting the oldest.
  bool room(uint16_t length) const noexcept {
    if (count_ == 0) return true;
    const uint32_t oldest = entries_[head_].offset;
    if (byteTail_ > oldest) return byteTail_ + length <= bytes_.size() || length <= oldest;
    return byteTail_ + length <= oldest;
  }
  void pop() noexcept {
    head_ = (head_ + 1) % entries_.size();
    --count_;
  }
  void clear() noexcept {
    head_ = count_ = 0;
    byteTail_ = 0;
  }

  SnapshotConfig config_;
  Handler& handler_;
  SnapshotChannel channel_;
  std::vector<Entry> entries_;
  std::vector<uint8_t> bytes_;
  size_t head_ = 0, count_ = 0;
  uint32_t byteTail_ = 0;
  bool waiting_ = false;
  uint64_t generation_ = 0;
  uint64_t nextLive_ = 1;      // the sequence after the last live message seen
  uint64_t coveredUntil_ = 0;  // live messages below it are in the merged snapshot
  uint64_t holeEnd_ = 0;       // the sequence after a hole lost while waiting
  uint64_t watchLeft_ = 0;
  uint64_t watchAdds_ = 0, watchUnknown_ = 0;
  SnapshotCounters counters_;
};

}  // namespace fh::feed
