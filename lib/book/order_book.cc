#include "book/order_book.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace fh::book {

namespace {

constexpr uint32_t kNone = UINT32_MAX;

// The configuration as the stores are built: every size within its range.
BookConfig clamped(BookConfig c) noexcept {
  c.maxInstruments = std::clamp<uint32_t>(c.maxInstruments, 2, 65536);
  c.maxOrders = std::clamp<uint32_t>(c.maxOrders, 16, 1u << 30);
  c.maxLevels = std::clamp<uint32_t>(c.maxLevels, 64, 1u << 30);
  c.priceTick = std::clamp<Price>(c.priceTick, 1, UINT32_MAX);
  return c;
}

}  // namespace

std::string_view Instrument::symbolTrimmed() const noexcept {
  size_t n = symbol.size();
  while (n > 0 && (symbol[n - 1] == ' ' || symbol[n - 1] == '\0')) --n;
  return {symbol.data(), n};
}

OrderBooks::OrderBooks(const BookConfig& config) : config_(clamped(config)) {
  const auto tick = static_cast<uint64_t>(config_.priceTick);
  tickShift_ = std::countr_zero(tick);
  const uint64_t odd = tick >> tickShift_;
  tickInverse_ = odd;  // correct to 3 bits; each Newton step doubles that
  for (int i = 0; i < 5; ++i) tickInverse_ *= 2 - odd * tickInverse_;
  tickBias_ = kTickBias * tick;
  books_ = HugeArray<BookSlot>(config_.maxInstruments, config_.memory);
  std::fill_n(books_.get(), config_.maxInstruments, BookSlot{});
  // Open addressing at a load factor of at most one half.
  const size_t slots = std::bit_ceil(size_t{config_.maxOrders} * 2);
  orderMask_ = slots - 1;
  orderShift_ = static_cast<unsigned>(std::countr_zero(slots));
  orders_ = HugeArray<Order>(slots, config_.memory);  // zeroed: every page touched now
  levelSlots_ = std::bit_ceil(config_.maxLevels);
  topClass_ = static_cast<uint8_t>(std::countr_zero(levelSlots_) - 2);
  levels_ = HugeArray<Level>(levelSlots_, config_.memory);
  freeBlocks_.fill(kNone);
  pushFree(0, topClass_);
}

void OrderBooks::clear() noexcept {
  std::fill_n(orders_.get(), orderMask_ + 1, Order{});
  for (uint32_t i = 0; i < config_.maxInstruments; ++i) books_[i] = BookSlot{};
  freeBlocks_.fill(kNone);
  pushFree(0, topClass_);
  liveOrders_ = 0;
  liveLevels_ = 0;
}

OrderBooks::~OrderBooks() = default;

size_t OrderBooks::reservedBytes() const noexcept {
  return (orderMask_ + 1) * sizeof(Order) + size_t{levelSlots_} * sizeof(Level) +
         size_t{config_.maxInstruments} * sizeof(BookSlot);
}

size_t OrderBooks::mappedBytesFor(const BookConfig& config) noexcept {
  const BookConfig c = clamped(config);  // as the constructor sizes the stores
  return mappedBytes(size_t{c.maxInstruments} * sizeof(BookSlot)) +
         mappedBytes(std::bit_ceil(size_t{c.maxOrders} * 2) * sizeof(Order)) +
         mappedBytes(size_t{std::bit_ceil(c.maxLevels)} * sizeof(Level));
}

MemoryGrant OrderBooks::memoryGrant() const {
  MemoryGrant g = books_.grant();
  g += orders_.grant();
  g += levels_.grant();
  return g;
}

// Robin Hood linear probing: along a run of occupied slots the orders' homes
// never decrease, so a search stops at the first order that sits nearer its
// home than the reference would, and a deletion shifts back only the orders
// displaced from their homes: most sit at home (references come in sequence),
// so it rarely moves one or reads past the next slot.
size_t OrderBooks::displacement(size_t slot, const Order& o) const noexcept {
  return (slot - home(o.ref())) & orderMask_;
}

OrderBooks::Probe OrderBooks::probe(uint64_t ref) const noexcept {
  size_t i = home(ref);
  for (size_t distance = 0;; ++distance, i = (i + 1) & orderMask_) {
    const Order& o = orders_[i];
    if (o.free() || displacement(i, o) < distance) return {i, distance, false};
    if (o.is(ref)) return {i, distance, true};
  }
}

OrderBooks::Order* OrderBooks::findSlot(uint64_t ref) const noexcept {
  const Probe p = probe(ref);
  return p.found ? &orders_.get()[p.slot] : nullptr;
}

// From where a probe for its reference stopped (the reference not live; a
// slot free): every slot before it holds an order at least as far from home,
// so an insertion from the home slot would get there unchanged.
void OrderBooks::insertOrder(Order order, Probe at) noexcept {
  size_t i = at.slot;
  for (size_t distance = at.distance;; ++distance, i = (i + 1) & orderMask_) {
    Order& o = orders_[i];
    if (o.free()) {
      o = order;
      return;
    }
    // The richer takes the slot; the one it displaced goes on looking.
    if (const size_t d = displacement(i, o); d < distance) {
      std::swap(o, order);
      distance = d;
    }
  }
}

void OrderBooks::eraseSlot(Order* slot) noexcept {
  size_t hole = static_cast<size_t>(slot - orders_.get());
  for (size_t i = (hole + 1) & orderMask_;; i = (i + 1) & orderMask_) {
    const Order& o = orders_[i];
    if (o.free() || displacement(i, o) == 0) break;
    orders_[hole] = o;
    hole = i;
  }
  orders_[hole] = Order{};
  --liveOrders_;
}

// A free block's first slot holds its links: key = next, shares = previous,
// orders = kFreeMark | class (a live level never counts 2^31 orders).
void OrderBooks::pushFree(uint32_t offset, uint8_t sizeClass) noexcept {
  const uint32_t head = freeBlocks_[sizeClass];
  levels_[offset] = Level{head, kFreeMark | sizeClass, kNone};
  if (head != kNone) levels_[head].shares = offset;
  freeBlocks_[sizeClass] = offset;
}

void OrderBooks::unlinkFree(uint32_t offset, uint8_t sizeClass) noexcept {
  const Level& l = levels_[offset];
  const uint32_t next = l.key, prev = static_cast<uint32_t>(l.shares);
  if (prev == kNone)
    freeBlocks_[sizeClass] = next;
  else
    levels_[prev].key = next;
  if (next != kNone) levels_[next].shares = prev;
  levels_[offset].orders = 0;
}

uint32_t OrderBooks::allocateBlock(uint8_t sizeClass) noexcept {
  uint8_t cls = sizeClass;
  while (cls <= topClass_ && freeBlocks_[cls] == kNone) ++cls;
  if (cls > topClass_) return kNone;
  const uint32_t offset = freeBlocks_[cls];
  unlinkFree(offset, cls);
  while (cls > sizeClass) {  // split, keeping the lower half
    --cls;
    pushFree(offset + blockLevels(cls), cls);
  }
  return offset;
}

void OrderBooks::releaseBlock(uint32_t offset, uint8_t sizeClass) noexcept {
  while (sizeClass < topClass_) {
    const uint32_t buddy = offset ^ blockLevels(sizeClass);
    if (levels_[buddy].orders != (kFreeMark | sizeClass)) break;
    unlinkFree(buddy, sizeClass);
    offset = std::min(offset, buddy);
    ++sizeClass;
  }
  pushFree(offset, sizeClass);
}

// Index of the first level whose key is not below `key`. Most traffic is near
// the top (the back), so look there first before bisecting the rest. (A
// branchless count of the top eight was measured slower: the early exit is
// mostly predicted.)
uint32_t OrderBooks::lowerBound(const Ladder& ladder, uint32_t key) const noexcept {
  const Level* base = levels_.get() + ladder.offset;
  uint32_t i = ladder.size;
  for (int step = 0; step < 8 && i > 0; ++step, --i)
    if (base[i - 1].key < key) return i;
  const Level* it = std::lower_bound(base, base + i, key, [](const Level& l, uint32_t k) { return l.key < k; });
  return static_cast<uint32_t>(it - base);
}

Status OrderBooks::addToLevel(InstrumentId instrument, Side side, uint32_t ticks, uint32_t shares, uint32_t& depth,
                              bool& shifted) noexcept {
  Ladder& ladder = books_[instrument].sides[static_cast<int>(side)];
  const uint32_t key = keyOf(side, ticks);
  const uint32_t pos = lowerBound(ladder, key);
  Level* base = levels_.get() + ladder.offset;
  if (pos < ladder.size && base[pos].key == key) {
    base[pos].orders += 1;
    base[pos].shares += shares;
    depth = ladder.size - 1 - pos;
    return Status::Ok;
  }
  if (ladder.sizeClass == kNoBlock || ladder.size == blockLevels(ladder.sizeClass)) {
    const uint8_t cls = ladder.sizeClass == kNoBlock ? 0 : static_cast<uint8_t>(ladder.sizeClass + 1);
    const uint32_t offset = allocateBlock(cls);
    if (offset == kNone) return Status::LevelStoreFull;
    if (ladder.sizeClass != kNoBlock) {
      std::memcpy(levels_.get() + offset, base, ladder.size * sizeof(Level));
      releaseBlock(ladder.offset, ladder.sizeClass);
    }
    ladder.offset = offset;
    ladder.sizeClass = cls;
    base = levels_.get() + offset;
  }
  std::memmove(base + pos + 1, base + pos, (ladder.size - pos) * sizeof(Level));
  base[pos] = Level{key, 1, shares};
  ++ladder.size;
  ++liveLevels_;
  depth = ladder.size - 1 - pos;
  shifted = true;
  return Status::Ok;
}

// Takes shares (and, when the order is gone, the order) from its level; returns
// the level's depth from the top before the change.
uint32_t OrderBooks::takeFromLevel(const Order& order, uint32_t shares, bool lastOfOrder, bool& shifted) noexcept {
  Ladder& ladder = books_[order.instrument()].sides[static_cast<int>(order.side())];
  const uint32_t key = keyOf(order.side(), order.ticks());
  const uint32_t pos = lowerBound(ladder, key);
  Level* base = levels_.get() + ladder.offset;
  // A live order always has its level; the store never lets them disagree.
  Level& level = base[pos];
  const uint32_t depth = ladder.size - 1 - pos;
  level.shares -= shares;
  if (lastOfOrder && --level.orders == 0) {
    shifted = true;
    std::memmove(base + pos, base + pos + 1, (ladder.size - pos - 1) * sizeof(Level));
    --ladder.size;
    --liveLevels_;
    if (ladder.size == 0) {
      releaseBlock(ladder.offset, ladder.sizeClass);
      ladder.sizeClass = kNoBlock;
    }
  }
  return depth;
}

Update OrderBooks::add(InstrumentId instrument, uint64_t ref, Side side, uint32_t shares, Price price) noexcept {
  Update u{Status::Ok, side, instrument, price, shares, shares, 0};
  if (instrument == 0 || instrument >= config_.maxInstruments) {
    ++counters_.badInstrument;
    u.status = Status::BadInstrument;
    return u;
  }
  Instrument& in = books_[instrument].instrument;
  if (liveOrders_ >= config_.maxOrders) {
    ++counters_.orderStoreFull;
    in.maybeBad = true;
    u.status = Status::OrderStoreFull;
    return u;
  }
  if (ref > kMaxOrderRef) {
    ++counters_.refTooLarge;
    in.maybeBad = true;
    u.status = Status::RefTooLarge;
    return u;
  }
  const uint64_t ticks = ticksOf(price);
  if (ticks > UINT32_MAX) {
    ++counters_.badPrice;
    in.maybeBad = true;
    u.status = Status::BadPrice;
    return u;
  }
  const Probe at = probe(ref);  // where it is, or where it goes
  if (at.found) {
    ++counters_.duplicateOrder;
    u.status = Status::DuplicateOrder;
    return u;
  }
  const Status s = addToLevel(instrument, side, static_cast<uint32_t>(ticks), shares, u.depth, u.shifted);
  if (s != Status::Ok) {
    ++counters_.levelStoreFull;
    in.maybeBad = true;
    u.status = s;
    return u;
  }
  insertOrder(Order{ref, static_cast<uint32_t>(ticks), shares, instrument, side},
              at);  // the levels left orders_ as it was
  ++liveOrders_;
  ++counters_.adds;
  return u;
}

Update OrderBooks::reduce(uint64_t ref, uint32_t shares, bool all) noexcept {
  Update u{Status::UnknownOrder, Side::Bid, 0, 0, 0, 0, 0};
  Order* o = findSlot(ref);
  if (o == nullptr) {
    ++counters_.unknownOrder;
    return u;
  }
  const uint32_t open = o->shares();
  if (all) {
    shares = open;
  } else if (shares > open) {
    ++counters_.overExecuted;
    shares = open;
  }
  const bool gone = shares == open;
  u = Update{Status::Ok, o->side(), o->instrument(), priceOf(o->ticks()), shares, open - shares, 0};
  u.depth = takeFromLevel(*o, shares, gone, u.shifted);
  if (gone)
    eraseSlot(o);
  else
    o->setShares(open - shares);
  return u;
}

Update OrderBooks::execute(uint64_t ref, uint32_t shares) noexcept {
  const Update u = reduce(ref, shares, false);
  counters_.executions += u.status == Status::Ok;
  return u;
}

Update OrderBooks::cancel(uint64_t ref, uint32_t shares) noexcept {
  const Update u = reduce(ref, shares, false);
  counters_.cancels += u.status == Status::Ok;
  return u;
}

Update OrderBooks::remove(uint64_t ref) noexcept {
  const Update u = reduce(ref, 0, true);
  counters_.deletes += u.status == Status::Ok;
  return u;
}

Update OrderBooks::replace(uint64_t oldRef, uint64_t newRef, uint32_t shares, Price price, Update& removed) noexcept {
  const Order* old = findSlot(oldRef);
  if (old == nullptr) {
    ++counters_.unknownOrder;
    removed = Update{Status::UnknownOrder, Side::Bid, 0, 0, 0, 0, 0};
    return removed;
  }
  // A replace onto a live reference would lose the old order for nothing.
  if (newRef != oldRef && findSlot(newRef) != nullptr) {
    ++counters_.duplicateOrder;
    removed =
        Update{Status::DuplicateOrder, old->side(), old->instrument(), priceOf(old->ticks()), 0, old->shares(), 0};
    return removed;
  }
  const InstrumentId instrument = old->instrument();
  const Side side = old->side();
  removed = reduce(oldRef, 0, true);
  const Update added = add(instrument, newRef, side, shares, price);
  counters_.adds -= added.status == Status::Ok;  // counted as a replace, not an add
  counters_.replaces += added.status == Status::Ok;
  return added;
}

void OrderBooks::setSymbol(InstrumentId instrument, const uint8_t* symbol8) noexcept {
  if (instrument == 0 || instrument >= config_.maxInstruments) return;
  std::memcpy(books_[instrument].instrument.symbol.data(), symbol8, 8);
}

void OrderBooks::setSymbol(InstrumentId instrument, const char (&symbol)[8]) noexcept {
  setSymbol(instrument, reinterpret_cast<const uint8_t*>(symbol));
}

void OrderBooks::setTradingState(InstrumentId instrument, char state) noexcept {
  if (instrument == 0 || instrument >= config_.maxInstruments) return;
  books_[instrument].instrument.tradingState = state;
}

}  // namespace fh::book
