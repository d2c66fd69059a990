// The update path never allocates: global operator new is counted while a
// real capture and a synthetic flow are replayed into warmed-up books.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

#include "book/book_builder.h"
#include "capture/capture.h"
#include "itch/decoder.h"
#include "testdata.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<uint64_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// Every form is replaced, so that what one form allocates another may free
// (ASan checks that new and delete match).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {
struct Discard {
  uint64_t n = 0;
  void mbo(const fh::record::MboMsg&) noexcept { ++n; }
  void mbp1(const fh::record::Mbp1Msg&) noexcept { ++n; }
};
}  // namespace

TEST_CASE("book: replaying a capture into warmed books allocates nothing", "[book][alloc]") {
  const fh::capture::MappedFile file(fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50"));
  fh::book::BookConfig config;
  config.maxOrders = 1 << 16;
  config.maxLevels = 1 << 16;
  fh::book::OrderBooks books(config);
  Discard sink;
  fh::book::BookBuilder<Discard> builder(books, sink, 0);

  // Sanity: the counter does see allocations.
  void* (*volatile allocate)(std::size_t) = &::operator new;
  counting = true;
  void* probe = allocate(8);
  counting = false;
  ::operator delete(probe);
  REQUIRE(allocations.exchange(0) == 1);

  counting = true;
  uint64_t decoded = 0;
  for (int pass = 0; pass < 3; ++pass)  // later passes re-add orders: duplicates, unknowns, level churn
    fh::capture::forEachRecord(file.bytes(), [&](uint64_t position, const uint8_t* msg, uint16_t n) {
      builder.setContext(position, 0);
      decoded += fh::itch::decode(msg, n, builder) == fh::itch::DecodeStatus::Ok;
    });
  counting = false;
  REQUIRE(decoded == 3 * 12012);
  REQUIRE(sink.n > 0);
  REQUIRE(books.liveOrders() > 0);
  REQUIRE(allocations.load() == 0);
}
