// Full-depth order books for every instrument of one feed: all live orders
// (L3) keyed by order reference, and for each instrument and side the price
// levels they form (L2: price, total shares, order count), best first.
// Venue-neutral: instruments are small integer ids, sides a Side, prices i64
// in 1e-9 as in the records; a protocol adapter (book_builder.h for ITCH)
// converts its wire shapes. Every store is sized and touched once at
// construction from BookConfig; the update methods never allocate, never
// throw, and count what they refuse. One writer thread owns an OrderBooks;
// nothing here is safe to share.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "util/huge_array.h"
#include "util/prefetch.h"

namespace fh::book {

enum class Side : uint8_t { Bid = 0, Ask = 1 };

// An instrument's id in its feed: 1 .. maxInstruments - 1 (0 is none). ITCH's
// stock locate is used as it is.
using InstrumentId = uint32_t;

// A price in 1e-9 of the currency unit (DBN's fixed point), signed.
using Price = int64_t;

struct BookConfig {
  uint32_t maxInstruments = 65536;  // ids 1 .. maxInstruments-1 (at most 65536)
  uint32_t maxOrders = 1u << 23;    // live orders at once (at most 2^30)
  // Slots of the level arena (rounded up to a power of two). A book side
  // with n levels holds a block of max(4, bit_ceil(n)) slots (and, while it
  // grows, the old block too), so the arena holds at least maxLevels / 4
  // levels however they spread over books; one side can reach maxLevels / 2.
  uint32_t maxLevels = 1u << 23;
  // The venue's price grid in 1e-9 (1 .. 2^32-1): every price a book holds is
  // a whole number of ticks, at most 2^31 ticks either side of zero. The
  // stores keep 32-bit tick numbers, which keeps an order in 16 bytes. The
  // default is ITCH's Price(4), 1e-4: prices within +-214,748.3647.
  Price priceTick = 100'000;
  MemoryPolicy memory;  // the stores' NUMA node and page size (util/memory.h)
};

// A price level as consumers see it.
struct PriceLevel {
  Price price;
  uint32_t orders;
  uint64_t shares;
};

// A live order as the read side sees it.
struct LiveOrder {
  uint64_t ref;
  InstrumentId instrument;
  Side side;
  Price price;
  uint32_t shares;  // still open
};

// Order references at most this are kept; an add of a larger one is refused.
inline constexpr uint64_t kMaxOrderRef = (uint64_t{1} << 47) - 1;

enum class Status : uint8_t {
  Ok,
  UnknownOrder,    // reference to an order that is not live (ignored)
  DuplicateOrder,  // add of an order reference that is already live (ignored)
  BadInstrument,   // id 0 or beyond maxInstruments (ignored)
  BadPrice,        // not on the tick grid or out of its range (ignored; the book is marked maybe-bad)
  OrderStoreFull,  // maxOrders reached (ignored; the book is marked maybe-bad)
  RefTooLarge,     // an add's reference above kMaxOrderRef (ignored; the book is marked maybe-bad)
  LevelStoreFull,  // no arena block for the level (ignored; the book is marked maybe-bad)
};

// What one operation changed, for the caller to publish.
struct Update {
  Status status;
  Side side;
  InstrumentId instrument;
  Price price;
  uint32_t shares;       // shares added, executed or canceled by this operation
  uint32_t remaining;    // shares the order still has open afterwards
  uint32_t depth;        // index of the touched level from the top, before the change
  bool shifted = false;  // a level was inserted or removed there: the levels below it moved
};

struct BookCounters {
  uint64_t adds = 0, executions = 0, cancels = 0, deletes = 0, replaces = 0;
  uint64_t unknownOrder = 0, duplicateOrder = 0, badInstrument = 0;
  uint64_t badPrice = 0;      // adds refused: off the tick grid or out of its range
  uint64_t overExecuted = 0;  // executed/canceled more shares than open (clamped)
  uint64_t orderStoreFull = 0, levelStoreFull = 0;
  uint64_t refTooLarge = 0;  // adds refused: reference above kMaxOrderRef
};

struct Instrument {
  std::array<char, 8> symbol{};  // space-padded as on the wire; all zero until known
  char tradingState = ' ';       // the venue's code (ITCH H: 'H', 'P', 'Q', 'T'); ' ' until known
  bool maybeBad = false;         // an update could not be applied in full
  std::string_view symbolTrimmed() const noexcept;
};

class OrderBooks {
 public:
  explicit OrderBooks(const BookConfig& config);
  ~OrderBooks();
  OrderBooks(const OrderBooks&) = delete;
  OrderBooks& operator=(const OrderBooks&) = delete;

  Update add(InstrumentId instrument, uint64_t ref, Side side, uint32_t shares, Price price) noexcept;
  Update execute(uint64_t ref, uint32_t shares) noexcept;
  Update cancel(uint64_t ref, uint32_t shares) noexcept;
  Update remove(uint64_t ref) noexcept;
  // The old order leaves the book and the new one enters with fresh priority;
  // on the same instrument and side. `removed` describes the first half.
  Update replace(uint64_t oldRef, uint64_t newRef, uint32_t shares, Price price, Update& removed) noexcept;

  // Hints that an update of this order (or book) is coming: a caller that can
  // see messages ahead (a batch of packets, a file) hides the memory latency.
  void prefetchOrder(uint64_t ref) const noexcept { prefetchLine(&orders_[home(ref)]); }
  void prefetchBook(InstrumentId instrument) const noexcept {
    if (instrument >= config_.maxInstruments) return;
    const BookSlot* slot = &books_[instrument];  // 36 bytes: often across two lines
    prefetchLine(slot);
    prefetchLine(reinterpret_cast<const uint8_t*>(slot + 1) - 1);
  }
  // The best levels of both sides; reads the book slot, so prefetch that first.
  void prefetchTop(InstrumentId instrument) const noexcept {
    if (instrument >= config_.maxInstruments) return;
    for (const Ladder& l : books_[instrument].sides) {
      if (l.size == 0) continue;
      // Most updates land in the top eight levels (128 bytes): all their lines.
      const Level* best = &levels_[l.offset + l.size - 1];
      prefetchLine(best);
      if (l.size > 4) prefetchLine(best - 4);
      if (l.size > 7) prefetchLine(best - 7);
    }
  }
  // Levels [bidFrom, bidTo) and [askFrom, askTo) from the top of each side
  // (a snapshot of the book follows).
  void prefetchLevels(InstrumentId instrument, uint32_t bidFrom, uint32_t bidTo, uint32_t askFrom,
                      uint32_t askTo) const noexcept {
    if (instrument >= config_.maxInstruments) return;
    const uint32_t from[2] = {bidFrom, askFrom}, to[2] = {bidTo, askTo};
    for (int side = 0; side < 2; ++side) {
      const Ladder& l = books_[instrument].sides[side];
      const uint32_t n = std::min(to[side], l.size);
      if (from[side] >= n) continue;
      const Level* best = &levels_[l.offset + l.size - 1];
      for (uint32_t i = from[side]; i < n; i += 64 / sizeof(Level)) prefetchLine(best - i);
      prefetchLine(best - (n - 1));
    }
  }

  // Forgets every order, level and instrument, as at construction: a new
  // session starts empty. Counters go on. Touches every store: not for the hot path.
  void clear() noexcept;

  void setSymbol(InstrumentId instrument, const char (&symbol)[8]) noexcept;
  void setSymbol(InstrumentId instrument, const uint8_t* symbol8) noexcept;
  void setTradingState(InstrumentId instrument, char state) noexcept;
  // An update of this book was lost before it reached the store (an adapter
  // could not map it): the book is marked maybe-bad, as a refused add marks it.
  void markMaybeBad(InstrumentId instrument) noexcept {
    if (instrument != 0 && instrument < config_.maxInstruments) books_[instrument].instrument.maybeBad = true;
  }

  // --- read side (same thread, or after the writer stopped) ---
  uint32_t maxInstruments() const noexcept { return config_.maxInstruments; }
  const BookConfig& config() const noexcept { return config_; }
  Price priceTick() const noexcept { return config_.priceTick; }
  const Instrument* instrument(InstrumentId instrument) const noexcept {
    return instrument < config_.maxInstruments ? &books_[instrument].instrument : nullptr;
  }
  uint32_t depth(InstrumentId instrument, Side side) const noexcept {
    if (instrument >= config_.maxInstruments) return 0;
    return books_[instrument].sides[static_cast<int>(side)].size;
  }
  // Level `index` from the top (0 = best); index < depth().
  PriceLevel level(InstrumentId instrument, Side side, uint32_t index) const noexcept {
    const Ladder& ladder = books_[instrument].sides[static_cast<int>(side)];
    const Level& l = levels_[ladder.offset + ladder.size - 1 - index];
    return PriceLevel{priceOf(side == Side::Bid ? l.key : ~l.key), l.orders, l.shares};
  }
  // Calls visit(k, PriceLevel) for each level k in [from, min(to, depth()))
  // from the top: a snapshot's levels, read in one pass where they lie.
  template <class Visit>
  void forLevels(InstrumentId instrument, Side side, uint32_t from, uint32_t to, Visit&& visit) const noexcept {
    const Ladder& ladder = books_[instrument].sides[static_cast<int>(side)];
    to = std::min(to, ladder.size);
    if (from >= to) return;
    const Level* best = &levels_[ladder.offset + ladder.size - 1];
    const uint32_t flip = side == Side::Bid ? 0 : ~0u;  // an ask's key is its ticks inverted
    for (uint32_t k = from; k < to; ++k) {
      const Level& l = *(best - k);
      visit(k, PriceLevel{priceOf(l.key ^ flip), l.orders, l.shares});
    }
  }
  std::optional<LiveOrder> findOrder(uint64_t ref) const noexcept {
    const Order* o = findSlot(ref);
    if (o == nullptr) return std::nullopt;
    return view(*o);
  }
  uint64_t liveOrders() const noexcept { return liveOrders_; }
  uint64_t liveLevels() const noexcept { return liveLevels_; }
  const BookCounters& counters() const noexcept { return counters_; }
  // Bytes reserved by the stores.
  size_t reservedBytes() const noexcept;
  // What the kernel gave the stores: node, page size, and any fallback.
  MemoryGrant memoryGrant() const;
  // The memory the stores of `config` map (util/memory.h), before building them.
  static size_t mappedBytesFor(const BookConfig& config) noexcept;

  // Visits every live order of one instrument (any order); off the hot path.
  template <class F>
  void forEachOrder(InstrumentId instrument, F&& f) const {
    if (instrument == 0 || instrument >= config_.maxInstruments) return;
    for (size_t i = 0; i <= orderMask_; ++i)
      if (orders_[i].instrument() == instrument) f(view(orders_[i]));
  }

 private:
  // One live order in 16 bytes, four to a cache line: the reference (at most
  // kMaxOrderRef, far above any day's), the side and the instrument share one
  // word; the price is its tick number biased by 2^31 (ticks(), priceOf()).
  class Order {
   public:
    Order() = default;
    Order(uint64_t ref, uint32_t ticks, uint32_t shares, InstrumentId instrument, Side side) noexcept
        : key_(ref << 17 | uint64_t{side == Side::Ask} << 16 | instrument), ticks_(ticks), shares_(shares) {}
    uint64_t ref() const noexcept { return key_ >> 17; }
    InstrumentId instrument() const noexcept { return static_cast<uint16_t>(key_); }  // 0 marks a free slot
    Side side() const noexcept { return (key_ >> 16 & 1) != 0 ? Side::Ask : Side::Bid; }
    uint32_t ticks() const noexcept { return ticks_; }
    uint32_t shares() const noexcept { return shares_; }
    bool free() const noexcept { return static_cast<uint16_t>(key_) == 0; }
    bool is(uint64_t ref) const noexcept { return key_ >> 17 == ref; }
    void setShares(uint32_t shares) noexcept { shares_ = shares; }

   private:
    uint64_t key_ = 0;
    uint32_t ticks_ = 0;
    uint32_t shares_ = 0;
  };
  static_assert(sizeof(Order) == 16);

  struct Level {
    uint32_t key;  // biased ticks for bids, ~ticks for asks: ascending, best at the back
    uint32_t orders;
    uint64_t shares;
  };
  struct Ladder {  // one side of one book: a block of the level arena
    uint32_t offset = 0;
    uint32_t size = 0;
    uint8_t sizeClass = kNoBlock;
  };
  struct BookSlot {
    Instrument instrument;
    Ladder sides[2];
  };
  static constexpr uint8_t kNoBlock = 0xFF;
  static constexpr unsigned kSizeClasses = 30;        // blocks of 4 << class slots
  static constexpr uint32_t kFreeMark = 0x80000000u;  // in Level::orders of a free block's first slot
  static constexpr uint64_t kTickBias = uint64_t{1} << 31;

  // The biased tick number of a price: (price / tick) + 2^31 when the price is
  // on the grid and in range, else a value of 2^32 or more. Exact division by
  // a multiplication (Granlund and Montgomery's divisibility test): with
  // tick = odd * 2^shift, u = price + 2^31 tick is a multiple of tick exactly
  // when rotr(u * odd^-1, shift) <= (2^64 - 1) / tick, and then that is the
  // quotient; every quotient in range is below 2^32 <= (2^64 - 1) / tick.
  uint64_t ticksOf(Price price) const noexcept {
    const uint64_t u = static_cast<uint64_t>(price) + tickBias_;
    return std::rotr(u * tickInverse_, tickShift_);
  }
  Price priceOf(uint32_t ticks) const noexcept {
    return (static_cast<Price>(ticks) - static_cast<Price>(kTickBias)) * config_.priceTick;
  }
  LiveOrder view(const Order& o) const noexcept {
    return LiveOrder{o.ref(), o.instrument(), o.side(), priceOf(o.ticks()), o.shares()};
  }

  // Where a search for `ref` stopped: its slot, or the one it would take.
  struct Probe {
    size_t slot;
    size_t distance;  // from the reference's home
    bool found;
  };
  Probe probe(uint64_t ref) const noexcept;
  Order* findSlot(uint64_t ref) const noexcept;
  void insertOrder(Order order, Probe at) noexcept;
  size_t displacement(size_t slot, const Order& o) const noexcept;  // from the order's home
  void eraseSlot(Order* slot) noexcept;
  // Order references are assigned in increasing order through the day, so the
  // low bits keep recent orders in neighbouring slots (hot in cache); the high
  // bits pick a different starting offset for each wrap of the table.
  size_t home(uint64_t ref) const noexcept { return (ref + (ref >> orderShift_) * 0x9E3779B97F4A7C15ull) & orderMask_; }

  static uint32_t keyOf(Side side, uint32_t ticks) noexcept { return side == Side::Bid ? ticks : ~ticks; }
  uint32_t lowerBound(const Ladder& ladder, uint32_t key) const noexcept;
  Status addToLevel(InstrumentId instrument, Side side, uint32_t ticks, uint32_t shares, uint32_t& depth,
                    bool& shifted) noexcept;
  uint32_t takeFromLevel(const Order& order, uint32_t shares, bool lastOfOrder, bool& shifted) noexcept;
  Update reduce(uint64_t ref, uint32_t shares, bool all) noexcept;

  // A buddy allocator over levels_: split on allocation, merge on release.
  uint32_t allocateBlock(uint8_t sizeClass) noexcept;
  void releaseBlock(uint32_t offset, uint8_t sizeClass) noexcept;
  void pushFree(uint32_t offset, uint8_t sizeClass) noexcept;
  void unlinkFree(uint32_t offset, uint8_t sizeClass) noexcept;
  static uint32_t blockLevels(uint8_t sizeClass) noexcept { return 4u << sizeClass; }

  BookConfig config_;
  uint64_t tickBias_ = 0;     // 2^31 ticks, in 1e-9
  uint64_t tickInverse_ = 0;  // the inverse of the tick's odd part, modulo 2^64
  int tickShift_ = 0;         // the tick's power of two
  HugeArray<BookSlot> books_;
  HugeArray<Order> orders_;
  size_t orderMask_ = 0;
  unsigned orderShift_ = 0;
  HugeArray<Level> levels_;
  uint32_t levelSlots_ = 0;
  uint8_t topClass_ = 0;                           // the class of the whole arena
  std::array<uint32_t, kSizeClasses> freeBlocks_;  // heads of doubly linked free lists
  uint64_t liveOrders_ = 0;
  uint64_t liveLevels_ = 0;
  BookCounters counters_;
};

}  // namespace fh::book
