// The seams of a feed, as the data flows through them:
//
//   source ──packets──► sequencer ──messages in order──► protocol handler ──records, books──► publisher
//   (daemon/sources.h,   (sequencer.h: A/B lines,         (itch_handler.h: ITCH → books      (region_publisher.h:
//    file_source.h)       holes, gaps)                      → normalized records)              the shm region)
//
// Each seam is a concept, checked where a stage is plugged into the next, so
// a misspelled member is a compile error rather than a message silently
// skipped. Every stage runs on the feed's one worker thread.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <span>

#include "book/order_book.h"
#include "record/record.h"
#include "shm/layout.h"

namespace fh::feed {

// What a sequencer hands on: every message once, in feed order, and what it
// could not deliver.
template <class T>
concept OrderedMessageSink = requires(T& t, uint64_t sequence, uint64_t recvNs, const uint8_t* msg, uint16_t length) {
  // One message and its feed sequence number; `msg` stays valid until endOfPacket().
  { t.message(sequence, recvNs, msg, length) }
  noexcept;
  // Messages first .. first+count-1 are lost: no line and no recovery had them.
  { t.gap(sequence, sequence) }
  noexcept;
  { t.endOfSession() }
  noexcept;
  // The feed is picked up at `sequence` of a session already under way:
  // whatever came before it is unknown, so no book is complete.
  { t.join(sequence) }
  noexcept;
  // Another session replaces the current one: books start empty.
  { t.newSession() }
  noexcept;
  // The bytes of the messages handed on so far may be reused from now on.
  { t.endOfPacket() }
  noexcept;
};

// Where a sequencer sends its MoldUDP64 request packets (session, first
// sequence, count): to re-request server `server`, an index into the feed's
// configured list. False when it could not be sent; the sequencer's timeout
// covers it like a lost request.
template <class T>
concept RequestChannel = requires(T& t, uint32_t server, std::span<const uint8_t> packet) {
  { t.request(server, packet) }
  noexcept->std::same_as<bool>;
};

// A protocol handler also keeps work that can wait until a batch of packets
// is through (book snapshots): flush() does it.
template <class T>
concept ProtocolHandler = OrderedMessageSink<T> && requires(T& t) {
  { t.flush() }
  noexcept;
};

// One book snapshot as a protocol handler hands it on: its fields, the
// level counts of each side (at most the publisher's depth()) included, and
// the levels read straight from the book, no copy between. Only the levels
// in each side's changed range differ from the book's last snapshot, and
// only those are read.
struct BookView {
  uint16_t instrument;
  shm::BookFields fields;
  shm::LevelRange changed[2];  // by side: 0 bids, 1 asks
  const book::OrderBooks* books;

  uint32_t count(int side) const noexcept { return side == 0 ? fields.bidLevels : fields.askLevels; }
  // Calls put(k, level) for each level k of `side`'s changed range, from the top.
  template <class Put>
  void changedLevels(int side, Put&& put) const noexcept {
    const uint32_t to = std::min(changed[side].to, count(side));
    books->forLevels(instrument, side == 0 ? book::Side::Bid : book::Side::Ask, changed[side].from, to,
                     [&](uint32_t k, const book::PriceLevel& l) {
                       put(k, shm::Level{l.price, l.shares, l.orders, 0});
                     });
  }
};

// Where the normalized output goes: tick records in feed order, the
// instrument directory, and book snapshots.
template <class P>
concept RecordPublisher = requires(P& p, const P& cp, const record::MboMsg& mbo, const record::Mbp1Msg& mbp1,
                                   const record::StatusMsg& status, uint16_t instrument, const char (&symbol)[8],
                                   char tradingState, const BookView& view, shm::LevelRange changed) {
  { p.record(mbo) }
  noexcept;
  { p.record(mbp1) }
  noexcept;
  { p.record(status) }
  noexcept;
  { p.instrument(instrument, symbol, tradingState) }
  noexcept;
  { p.book(view) }
  noexcept;
  { cp.prefetchBook(instrument, changed, changed) }
  noexcept;  // a hint: book() with those ranges follows soon
  { cp.depth() }
  noexcept->std::convertible_to<uint32_t>;
};

}  // namespace fh::feed
