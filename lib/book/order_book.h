// Full-depth order books for every instrument of one feed: all live orders
// (L3) keyed by order reference, and for each instrument and side the price
// levels they form (L2: price, total shares, order count), best first.
// Every store is sized and touched once at construction from BookConfig; the
// update methods never allocate, never throw, and count what they refuse.
// One writer thread owns an OrderBooks; nothing here is safe to share.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "util/huge_array.h"
#include "util/prefetch.h"

namespace fh::book {

enum class Side : uint8_t { Bid = 0, Ask = 1 };

struct BookConfig {
  uint32_t maxInstruments = 65536;  // stock locates 0 .. maxInstruments-1
  uint32_t maxOrders = 1u << 23;    // live orders at once (at most 2^30)
  // Slots of the level arena (rounded up to a power of two). A book side
  // with n levels holds a block of max(4, bit_ceil(n)) slots (and, while it
  // grows, the old block too), so the arena holds at least maxLevels / 4
  // levels however they spread over books; one side can reach maxLevels / 2.
  uint32_t maxLevels = 1u << 23;
};

// A price level as consumers see it; price in ITCH Price(4) units.
struct PriceLevel {
  uint32_t price;
  uint32_t orders;
  uint64_t shares;
};

// One live order in 16 bytes, four to a cache line: the reference (below
// 2^47, far above any day's), the side and the locate share one word.
class Order {
 public:
  static constexpr uint64_t kMaxRef = (uint64_t{1} << 47) - 1;

  Order() = default;
  Order(uint64_t ref, uint32_t price, uint32_t shares, uint16_t locate, Side side) noexcept
      : key_(ref << 17 | uint64_t{side == Side::Ask} << 16 | locate), price_(price), shares_(shares) {}

  uint64_t ref() const noexcept { return key_ >> 17; }
  uint16_t locate() const noexcept { return static_cast<uint16_t>(key_); }  // 0 marks a free slot
  Side side() const noexcept { return (key_ >> 16 & 1) != 0 ? Side::Ask : Side::Bid; }
  uint32_t price() const noexcept { return price_; }
  uint32_t shares() const noexcept { return shares_; }  // still open

 private:
  friend class OrderBooks;
  bool free() const noexcept { return static_cast<uint16_t>(key_) == 0; }
  bool is(uint64_t ref) const noexcept { return key_ >> 17 == ref; }

  uint64_t key_ = 0;
  uint32_t price_ = 0;
  uint32_t shares_ = 0;
};
static_assert(sizeof(Order) == 16);

enum class Status : uint8_t {
  Ok,
  UnknownOrder,    // reference to an order that is not live (ignored)
  DuplicateOrder,  // add of an order reference that is already live (ignored)
  BadLocate,       // locate 0 or beyond maxInstruments (ignored)
  BadSide,         // side neither 'B' nor 'S' (ignored)
  OrderStoreFull,  // maxOrders reached (ignored; the book is marked maybe-bad)
  RefTooLarge,     // an add's reference above Order::kMaxRef (ignored; the book is marked maybe-bad)
  LevelStoreFull,  // no arena block for the level (ignored; the book is marked maybe-bad)
};

// What one operation changed, for the caller to publish.
struct Update {
  Status status;
  Side side;
  uint16_t locate;
  uint32_t price;
  uint32_t shares;     // shares added, executed or canceled by this operation
  uint32_t remaining;  // shares the order still has open afterwards
  uint32_t depth;      // index of the touched level from the top, before the change
  bool shifted = false;  // a level was inserted or removed there: the levels below it moved
};

struct BookCounters {
  uint64_t adds = 0, executions = 0, cancels = 0, deletes = 0, replaces = 0;
  uint64_t unknownOrder = 0, duplicateOrder = 0, badLocate = 0, badSide = 0;
  uint64_t overExecuted = 0;  // executed/canceled more shares than open (clamped)
  uint64_t orderStoreFull = 0, levelStoreFull = 0;
  uint64_t refTooLarge = 0;  // adds refused: reference above Order::kMaxRef
};

struct Instrument {
  std::array<char, 8> symbol{};  // space-padded as on the wire; all zero until known
  char tradingState = ' ';       // H message: 'H', 'P', 'Q' or 'T'; ' ' until one arrives
  bool maybeBad = false;         // an update could not be applied in full
  std::string_view symbolTrimmed() const noexcept;
};

class OrderBooks {
 public:
  explicit OrderBooks(const BookConfig& config);
  ~OrderBooks();
  OrderBooks(const OrderBooks&) = delete;
  OrderBooks& operator=(const OrderBooks&) = delete;

  Update add(uint16_t locate, uint64_t ref, char side, uint32_t shares, uint32_t price) noexcept;
  Update execute(uint64_t ref, uint32_t shares) noexcept;
  Update cancel(uint64_t ref, uint32_t shares) noexcept;
  Update remove(uint64_t ref) noexcept;
  // The old order leaves the book and the new one enters with fresh priority;
  // on the same locate and side. `removed` describes the first half.
  Update replace(uint64_t oldRef, uint64_t newRef, uint32_t shares, uint32_t price,
                 Update& removed) noexcept;

  // Hints that an update of this order (or book) is coming: a caller that can
  // see messages ahead (a batch of packets, a file) hides the memory latency.
  void prefetchOrder(uint64_t ref) const noexcept { prefetchLine(&orders_[home(ref)]); }
  void prefetchBook(uint16_t locate) const noexcept {
    if (locate < config_.maxInstruments) prefetchLine(&books_[locate]);
  }
  // The best levels of both sides; reads the book slot, so prefetch that first.
  void prefetchTop(uint16_t locate) const noexcept {
    if (locate >= config_.maxInstruments) return;
    for (const Ladder& l : books_[locate].sides)
      if (l.size > 0) prefetchLine(&levels_[l.offset + l.size - 1]);
  }
  // Levels [bidFrom, bidTo) and [askFrom, askTo) from the top of each side
  // (a snapshot of the book follows).
  void prefetchLevels(uint16_t locate, uint32_t bidFrom, uint32_t bidTo, uint32_t askFrom,
                      uint32_t askTo) const noexcept {
    if (locate >= config_.maxInstruments) return;
    const uint32_t from[2] = {bidFrom, askFrom}, to[2] = {bidTo, askTo};
    for (int side = 0; side < 2; ++side) {
      const Ladder& l = books_[locate].sides[side];
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

  void setSymbol(uint16_t locate, const char (&symbol)[8]) noexcept;
  void setSymbol(uint16_t locate, const uint8_t* symbol8) noexcept;
  void setTradingState(uint16_t locate, char state) noexcept;

  // --- read side (same thread, or after the writer stopped) ---
  uint32_t maxInstruments() const noexcept { return config_.maxInstruments; }
  const Instrument* instrument(uint16_t locate) const noexcept {
    return locate < config_.maxInstruments ? &books_[locate].instrument : nullptr;
  }
  uint32_t depth(uint16_t locate, Side side) const noexcept {
    if (locate >= config_.maxInstruments) return 0;
    return books_[locate].sides[static_cast<int>(side)].size;
  }
  // Level `index` from the top (0 = best); index < depth().
  PriceLevel level(uint16_t locate, Side side, uint32_t index) const noexcept {
    const Ladder& ladder = books_[locate].sides[static_cast<int>(side)];
    const Level& l = levels_[ladder.offset + ladder.size - 1 - index];
    return PriceLevel{side == Side::Bid ? l.key : ~l.key, l.orders, l.shares};
  }
  const Order* findOrder(uint64_t ref) const noexcept;
  uint64_t liveOrders() const noexcept { return liveOrders_; }
  uint64_t liveLevels() const noexcept { return liveLevels_; }
  const BookCounters& counters() const noexcept { return counters_; }
  // Bytes reserved by the stores.
  size_t reservedBytes() const noexcept;

  // Visits every live order of one instrument (any order); off the hot path.
  template <class F>
  void forEachOrder(uint16_t locate, F&& f) const {
    for (size_t i = 0; i <= orderMask_; ++i)
      if (orders_[i].locate() == locate && locate != 0) f(orders_[i]);
  }

 private:
  struct Level {
    uint32_t key;  // price for bids, ~price for asks: ascending, best at the back
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
  static constexpr unsigned kSizeClasses = 30;  // blocks of 4 << class slots
  static constexpr uint32_t kFreeMark = 0x80000000u;  // in Level::orders of a free block's first slot

  Order* findSlot(uint64_t ref) const noexcept;
  Order* insertSlot(uint64_t ref) noexcept;  // nullptr if present or full
  void eraseSlot(Order* slot) noexcept;
  // Order references are assigned in increasing order through the day, so the
  // low bits keep recent orders in neighbouring slots (hot in cache); the high
  // bits pick a different starting offset for each wrap of the table.
  size_t home(uint64_t ref) const noexcept {
    return (ref + (ref >> orderShift_) * 0x9E3779B97F4A7C15ull) & orderMask_;
  }

  static uint32_t keyOf(Side side, uint32_t price) noexcept { return side == Side::Bid ? price : ~price; }
  uint32_t lowerBound(const Ladder& ladder, uint32_t key) const noexcept;
  Status addToLevel(uint16_t locate, Side side, uint32_t price, uint32_t shares, uint32_t& depth,
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
  std::unique_ptr<BookSlot[]> books_;
  HugeArray<Order> orders_;
  size_t orderMask_ = 0;
  unsigned orderShift_ = 0;
  HugeArray<Level> levels_;
  uint32_t levelSlots_ = 0;
  uint8_t topClass_ = 0;  // the class of the whole arena
  std::array<uint32_t, kSizeClasses> freeBlocks_;  // heads of doubly linked free lists
  uint64_t liveOrders_ = 0;
  uint64_t liveLevels_ = 0;
  BookCounters counters_;
};

}  // namespace fh::book
