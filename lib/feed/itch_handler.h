// The protocol handler stage for Nasdaq TotalView-ITCH 5.0: messages in feed
// order → order books (lib/book) → normalized records and book snapshots for
// a RecordPublisher (stages.h). Tick records go out as each message is
// applied; book snapshots wait for flush(), once per batch of packets, and
// only for books whose published top levels changed. Messages pass through a
// prefetch window within each packet, so the memory each one needs is on its
// way while the ones before it are applied. The feed's one worker thread; no
// allocation, lock or system call after construction.
#pragma once

#include <algorithm>
#include <cstdint>

#include "book/book_builder.h"
#include "book/order_book.h"
#include "book/prefetch_window.h"
#include "feed/stages.h"
#include "itch/decoder.h"
#include "record/record.h"
#include "shm/histogram.h"
#include "shm/layout.h"
#include "util/bytes.h"
#include "util/huge_array.h"
#include "util/prefetch.h"

namespace fh::feed {

struct HandlerCounters {
  uint64_t staleBooks = 0;  // books published as maybe-bad
  uint64_t recoveries = 0;  // times every book was proven complete by a snapshot
};

template <RecordPublisher Publisher>
class ItchHandler {
 public:
  // midnightNs: UNIX time of midnight in New York on the trading date.
  ItchHandler(book::OrderBooks& books, Publisher& publisher, int64_t midnightNs)
      : books_(books),
        publisher_(publisher),
        builder_(books, *this, midnightNs),
        window_(*this),
        midnightNs_(midnightNs),
        depth_(std::min<uint32_t>(publisher.depth(), shm::kMaxDepth)),
        state_(books.maxInstruments(), books.config().memory),
        dirty_(books.maxInstruments(), books.config().memory) {}
  ItchHandler(const ItchHandler&) = delete;
  ItchHandler& operator=(const ItchHandler&) = delete;

  // --- OrderedMessageSink: from the sequencer, or a file in order ---
  void message(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    window_.push({sequence, recvNs, msg, length}, apply_);
  }
  void endOfPacket() noexcept {
    if (!window_.empty()) window_.drain(apply_);
  }
  // Lost messages: every book may be wrong from now on. Each is published as
  // stale at once, with a status record, and later records carry MAYBE_BAD_BOOK.
  void gap(uint64_t first, uint64_t count) noexcept {
    (void)first;
    (void)count;
    endOfPacket();
    feedStale_ = true;
    announceToAll(record::StatusReason::BookStale);
  }
  void endOfSession() noexcept { endOfPacket(); }

  // Joined in mid-session: no book is complete until proven so (a snapshot).
  // Each listed book says so at once, with a status record; later records
  // carry MAYBE_BAD_BOOK.
  void join(uint64_t sequence) noexcept {
    (void)sequence;
    endOfPacket();
    feedJoining_ = true;
    announceToAll(record::StatusReason::BookJoining);
  }

  // Another session: the old one's orders are gone. Every listed book is
  // published empty.
  void newSession() noexcept {
    endOfPacket();
    books_.clear();
    feedStale_ = feedJoining_ = false;
    for (uint32_t locate = 1; locate < books_.maxInstruments(); ++locate) {
      BookState& b = state_[locate];
      b.stale = false;
      b.from[0] = b.from[1] = 0;
      b.single = 0;
      if (b.listed) queue(static_cast<uint16_t>(locate));
    }
    flush();
  }

  // --- SnapshotTarget (snapshot_recovery.h): a snapshot rebuilds every book ---
  // The books start empty; what the snapshot and the live messages after it
  // bring is flagged maybe-bad until snapshotComplete().
  void beginSnapshot() noexcept {
    endOfPacket();
    books_.clear();
    for (uint32_t locate = 1; locate < books_.maxInstruments(); ++locate) {
      BookState& b = state_[locate];
      b.from[0] = b.from[1] = 0;
      b.single = 0;
      if (b.listed) queue(static_cast<uint16_t>(locate));
    }
  }
  // One snapshot message: its records are flagged SNAPSHOT.
  void snapshotMessage(uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    snapshotting_ = true;
    apply(0, recvNs, msg, length);
    snapshotting_ = false;
  }
  // Every book is complete again: each listed one says so (BookRecovered)
  // and is published now.
  void snapshotComplete() noexcept {
    endOfPacket();
    feedStale_ = feedJoining_ = false;
    for (uint32_t locate = 1; locate < books_.maxInstruments(); ++locate) {
      BookState& b = state_[locate];
      if (!b.listed) continue;
      b.stale = false;
      status(static_cast<uint16_t>(locate), lastTimestamp_, record::StatusAction::None,
             record::StatusReason::BookRecovered, '~', '~');
      queue(static_cast<uint16_t>(locate));
    }
    ++counters_.recoveries;
    flush();
  }

  // Publishes the snapshots of the books whose top levels moved since the last flush.
  void flush() noexcept {
    endOfPacket();
    // Each snapshot reads the book's state, its slot and best levels, and
    // writes the region's copy. Fetched in two steps a few books ahead, so
    // that their misses overlap: the state and slot first (kFar), then what
    // they locate (kNear).
    constexpr uint32_t kFar = 8, kNear = 4;
    for (uint32_t i = 0; i < std::min(dirtyCount_, kFar); ++i) prefetchState(dirty_[i]);
    for (uint32_t i = 0; i < std::min(dirtyCount_, kNear); ++i) prefetchSnapshot(dirty_[i]);
    for (uint32_t i = 0; i < dirtyCount_; ++i) {
      if (i + kFar < dirtyCount_) prefetchState(dirty_[i + kFar]);
      if (i + kNear < dirtyCount_) prefetchSnapshot(dirty_[i + kNear]);
      publishBook(dirty_[i]);
    }
    dirtyCount_ = 0;
  }

  // --- the ITCH messages that matter to books (decoder.h dispatches) ---
  void on(const itch::StockDirectory& m) noexcept {
    builder_.on(m);
    list(m.locate());
  }
  void on(const itch::StockTradingAction& m) noexcept {
    const uint16_t locate = m.locate();
    if (books_.instrument(locate) == nullptr) return;
    builder_.on(m);
    list(locate);
    const char state = m.tradingState();
    const auto action = state == 'H'   ? record::StatusAction::Halt
                        : state == 'P' ? record::StatusAction::Pause
                        : state == 'Q' ? record::StatusAction::Quoting
                        : state == 'T' ? record::StatusAction::Trading
                                       : record::StatusAction::None;
    const char trading = state == 'T' ? 'Y' : (state == 'H' || state == 'P' || state == 'Q') ? 'N' : '~';
    const char quoting = state == 'T' || state == 'Q' ? 'Y' : state == 'H' || state == 'P' ? 'N' : '~';
    status(locate, m.timestamp(), action, record::StatusReason::None, trading, quoting);
    touch(locate);
    queue(locate);  // the book's status follows the trading state
  }
  void on(const itch::AddOrder& m) noexcept {  // and F
    const book::BookChange c = builder_.on(m);
    if (m.locate() < books_.maxInstruments() && !state_[m.locate()].listed)
      list(m.locate());  // a capture that began after the directory
    if (c.depth != book::BookChange::kNoLevel) {
      changed(c);
    } else if (const book::Instrument* in = books_.instrument(c.instrument); in != nullptr && in->maybeBad) {
      touch(c.instrument);  // a refused add left the book maybe-bad: its status changes
      queue(c.instrument);
    }
  }
  void on(const itch::OrderExecuted& m) noexcept { changed(builder_.on(m)); }
  void on(const itch::OrderExecutedWithPrice& m) noexcept { changed(builder_.on(m)); }
  void on(const itch::OrderCancel& m) noexcept { changed(builder_.on(m)); }
  void on(const itch::OrderDelete& m) noexcept { changed(builder_.on(m)); }
  void on(const itch::OrderReplace& m) noexcept { changed(builder_.on(m)); }
  void on(const itch::Trade& m) noexcept { builder_.on(m); }
  void on(const itch::CrossTrade& m) noexcept { builder_.on(m); }

  // --- the builder's sink: tick records go out at once ---
  void mbo(const record::MboMsg& m) noexcept { publisher_.record(m); }
  void mbp1(const record::Mbp1Msg& m) noexcept { publisher_.record(m); }

  // --- the prefetch window's hints: the builder's, and the book's state here ---
  void prefetchFar(const uint8_t* msg, size_t length) const noexcept {
    builder_.prefetchFar(msg, length);
    if (length >= itch::kHeaderLength) {
      const uint16_t locate = static_cast<uint16_t>(msg[1] << 8 | msg[2]);
      if (locate < books_.maxInstruments()) prefetchLine(&state_[locate]);
    }
  }
  void prefetchNear(const uint8_t* msg, size_t length) const noexcept { builder_.prefetchNear(msg, length); }

  bool joining() const noexcept { return feedJoining_; }
  bool stale() const noexcept { return feedStale_; }
  const itch::DecodeCounters& decodeCounters() const noexcept { return decode_; }
  const HandlerCounters& counters() const noexcept { return counters_; }
  const book::BuilderCounters& builderCounters() const noexcept { return builder_.counters(); }
  const book::OrderBooks& books() const noexcept { return books_; }
  // The memory the handler's own stores map for `maxInstruments`.
  static size_t mappedBytesFor(uint32_t maxInstruments) noexcept {
    return mappedBytes(size_t{maxInstruments} * sizeof(BookState)) + mappedBytes(size_t{maxInstruments} * 2);
  }
  // What the kernel gave the handler's own stores (at start).
  MemoryGrant memoryGrant() const {
    MemoryGrant g = state_.grant();
    g += dirty_.grant();
    return g;
  }
  // ts_recv - ts_event of every message with a timestamp but a snapshot's.
  shm::Histogram& feedDelay() noexcept { return feedDelay_; }

 private:
  // What the handler knows of a book beyond its levels: 32 bytes.
  struct BookState {
    static constexpr uint8_t kClean = 0xFF;
    uint64_t lastSequence;
    uint64_t tsRecv;
    uint64_t timestamp;  // ITCH ns since midnight, of the last message applied
    uint32_t updates;    // messages applied (wraps)
    bool listed : 1;     // its directory entry is published
    bool stale : 1;      // published as maybe-bad
    bool queued : 1;     // waits in dirty_ for the next flush
    // By side, the shallowest published level that moved since the last
    // snapshot: levels above it need no rewrite. kClean when none moved.
    uint8_t from[2];
    // By side (bit 0 bids, bit 1 asks): only level from[side] changed, in
    // place; otherwise every level from there down may have.
    uint8_t single;
  };
  static_assert(sizeof(BookState) == 32 && shm::kMaxDepth < BookState::kClean);

  struct Apply {
    ItchHandler& h;
    void operator()(const typename book::PrefetchWindow<ItchHandler>::Entry& e) const noexcept {
      h.apply(e.position, e.recvNs, e.msg, e.length);
    }
  };

  void apply(uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) noexcept {
    sequence_ = sequence;
    recvNs_ = recvNs;
    if (length >= itch::kHeaderLength) {
      timestamp_ = loadBe48(msg + 5);
      // A snapshot's message carries its order's time, not the time it was sent.
      if (!snapshotting_)
        feedDelay_.record(static_cast<int64_t>(recvNs) - (midnightNs_ + static_cast<int64_t>(timestamp_)));
    }
    builder_.setContext(sequence, recvNs,
                        static_cast<uint8_t>((feedStale_ || feedJoining_ ? record::flags::kMaybeBadBook : 0) |
                                             (snapshotting_ ? record::flags::kSnapshot : 0)));
    decode_.count(itch::decode(msg, length, *this), length > 0 ? msg[0] : 0);
    if (length >= itch::kHeaderLength) lastTimestamp_ = timestamp_;
  }

  // A message applied to a book; its snapshot is due if a published level moved.
  void changed(const book::BookChange& c) noexcept {
    if (c.depth == book::BookChange::kNoLevel || c.instrument == 0 || c.instrument >= books_.maxInstruments()) return;
    touch(c.instrument);
    if (c.depth >= depth_) return;
    BookState& b = state_[c.instrument];
    const int side = static_cast<int>(c.side);
    const uint8_t bit = static_cast<uint8_t>(1u << side);
    uint8_t& from = b.from[side];
    const auto depth = static_cast<uint8_t>(c.depth);
    if (from == BookState::kClean) {  // the first change since the last snapshot
      from = depth;
      b.single = static_cast<uint8_t>(c.shifted ? b.single & ~bit : b.single | bit);
    } else if (c.shifted || depth != from) {
      from = std::min(from, depth);
      b.single = static_cast<uint8_t>(b.single & ~bit);
    }
    queue(c.instrument);
  }

  void touch(book::InstrumentId locate) noexcept {
    BookState& b = state_[locate];
    b.lastSequence = sequence_;
    b.tsRecv = recvNs_;
    b.timestamp = timestamp_;
    ++b.updates;
  }

  void queue(book::InstrumentId locate) noexcept {
    BookState& b = state_[locate];
    if (b.queued) return;
    b.queued = true;
    dirty_[dirtyCount_++] = static_cast<uint16_t>(locate);  // below maxInstruments <= 65536
  }

  // A change of the whole feed's state: a status record for every listed
  // book (once per book for BookStale), and each book republished now.
  void announceToAll(record::StatusReason reason) noexcept {
    for (uint32_t locate = 1; locate < books_.maxInstruments(); ++locate) {
      BookState& b = state_[locate];
      if (!b.listed || (reason == record::StatusReason::BookStale && b.stale)) continue;
      status(static_cast<uint16_t>(locate), lastTimestamp_, record::StatusAction::None, reason, '~', '~');
      if (reason == record::StatusReason::BookStale) markStale(b);
      queue(static_cast<uint16_t>(locate));
    }
    flush();
  }

  void markStale(BookState& b) noexcept {
    b.stale = true;
    ++counters_.staleBooks;
  }

  // Publishes the directory entry once the instrument has a symbol.
  void list(uint16_t locate) noexcept {
    const book::Instrument* in = books_.instrument(locate);
    if (in == nullptr || in->symbol[0] == '\0') return;
    char symbol[8];
    std::copy(in->symbol.begin(), in->symbol.end(), symbol);
    publisher_.instrument(locate, symbol, in->tradingState);
    if (!state_[locate].listed && feedJoining_)  // a book that is incomplete from its first record
      status(locate, timestamp_, record::StatusAction::None, record::StatusReason::BookJoining, '~', '~');
    state_[locate].listed = true;
  }

  void status(uint16_t locate, uint64_t timestamp, record::StatusAction action, record::StatusReason reason,
              char trading, char quoting) noexcept {
    record::StatusMsg s{};
    s.hd = record::RecordHeader{sizeof(record::StatusMsg) / 4, record::RType::Status, 0, locate,
                                static_cast<uint64_t>(midnightNs_ + static_cast<int64_t>(timestamp))};
    s.tsRecv = recvNs_;
    s.action = action;
    s.reason = reason;
    s.isTrading = trading;
    s.isQuoting = quoting;
    s.isShortSellRestricted = '~';
    publisher_.record(s);
  }

  // What changed on one side since the last snapshot.
  static shm::LevelRange changedRange(const BookState& b, int side) noexcept {
    const uint32_t from = b.from[side];
    if (from == BookState::kClean) return {0, 0};
    return {from, (b.single >> side & 1) != 0 ? from + 1 : UINT32_MAX};
  }

  void prefetchState(uint16_t locate) const noexcept {
    prefetchLine(&state_[locate]);
    books_.prefetchBook(locate);
  }
  void prefetchSnapshot(uint16_t locate) const noexcept {
    const BookState& b = state_[locate];
    const shm::LevelRange bid = changedRange(b, 0), ask = changedRange(b, 1);
    books_.prefetchLevels(locate, bid.from, std::min(bid.to, depth_), ask.from, std::min(ask.to, depth_));
    publisher_.prefetchBook(locate, bid, ask);
  }

  void publishBook(uint16_t locate) noexcept {
    BookState& b = state_[locate];
    const shm::LevelRange bid = changedRange(b, 0), ask = changedRange(b, 1);
    b.queued = false;
    b.from[0] = b.from[1] = BookState::kClean;
    b.single = 0;
    const book::Instrument& in = *books_.instrument(locate);
    if (in.maybeBad && !b.stale) markStale(b);
    BookView s{locate, {}, {bid, ask}, &books_};
    shm::BookFields& f = s.fields;
    f.lastSequence = b.lastSequence;
    f.tsEvent = static_cast<uint64_t>(midnightNs_ + static_cast<int64_t>(b.timestamp));
    f.tsRecv = b.tsRecv;
    f.updates = b.updates;
    f.bidLevels = static_cast<uint16_t>(std::min(books_.depth(locate, book::Side::Bid), depth_));
    f.askLevels = static_cast<uint16_t>(std::min(books_.depth(locate, book::Side::Ask), depth_));
    f.status = feedJoining_                                       ? shm::BookStatus::Joining
               : b.stale                                          ? shm::BookStatus::Stale
               : in.tradingState == 'H' || in.tradingState == 'P' ? shm::BookStatus::Halted
                                                                  : shm::BookStatus::Normal;
    f.tradingState = in.tradingState;
    publisher_.book(s);
  }

  book::OrderBooks& books_;
  Publisher& publisher_;
  book::BookBuilder<ItchHandler> builder_;
  book::PrefetchWindow<ItchHandler> window_;
  Apply apply_{*this};
  int64_t midnightNs_;
  uint32_t depth_;
  uint64_t sequence_ = 0;
  uint64_t recvNs_ = 0;
  uint64_t timestamp_ = 0;      // of the message being applied
  uint64_t lastTimestamp_ = 0;  // of the last message with a header
  bool feedStale_ = false;      // a gap was declared
  bool feedJoining_ = false;    // joined in mid-session
  bool snapshotting_ = false;   // the message applied is a snapshot's
  HugeArray<BookState> state_;  // by locate
  HugeArray<uint16_t> dirty_;   // locates with dirty set, in the order they moved
  uint32_t dirtyCount_ = 0;
  itch::DecodeCounters decode_;
  HandlerCounters counters_;
  shm::Histogram feedDelay_;
};

}  // namespace fh::feed
