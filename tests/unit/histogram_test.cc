// Latency histograms: the bucket arithmetic over the whole range of values,
// the recorder, quantiles against the exact order statistics, the region's
// copy (only touched buckets written, always whole), and a region whose
// histogram header lies being refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "process.h"
#include "shm/consumer.h"
#include "shm/histogram.h"
#include "shm/writer.h"
#include "shm_fixture.h"

namespace {

using fh::shm::Consumer;
using fh::shm::Histogram;
using fh::shm::histogramBucket;
using fh::shm::histogramBucketHigh;
using fh::shm::histogramBucketLow;
using fh::shm::kHistogramBuckets;
using fh::test::TempDir;

fh::shm::RegionConfig withHistograms(const TempDir& dir) {
  fh::shm::RegionConfig c = fh::test::smallRegion(dir);
  c.histograms = {"latency.one_ns", "latency.two_ns"};
  return c;
}

Consumer attach(const TempDir& dir) {
  Consumer::Options o;
  o.directory = dir.str();
  return Consumer("t", o);
}

}  // namespace

TEST_CASE("histogram: buckets tile every value from 0 to 2^64-1, each at most 1/16 of its values wide", "[histogram]") {
  CHECK(histogramBucketLow(0) == 0);
  CHECK(histogramBucketHigh(kHistogramBuckets - 1) == UINT64_MAX);
  for (uint32_t i = 0; i < kHistogramBuckets; ++i) {
    INFO("bucket " << i);
    const uint64_t lo = histogramBucketLow(i), hi = histogramBucketHigh(i);
    REQUIRE(lo <= hi);
    REQUIRE(histogramBucket(lo) == i);
    REQUIRE(histogramBucket(hi) == i);
    if (i + 1 < kHistogramBuckets) REQUIRE(histogramBucketLow(i + 1) == hi + 1);
    if (lo >= 32) REQUIRE(static_cast<double>(hi - lo + 1) <= static_cast<double>(lo) / 16.0 * 1.0000001);
  }
  // Every power of two starts a bucket.
  for (int e = 0; e < 64; ++e) {
    const uint64_t p = uint64_t{1} << e;
    CHECK(histogramBucketLow(histogramBucket(p)) == p);
  }
}

TEST_CASE("histogram: the recorder's totals, and quantiles never below the exact ones nor 6.25% above", "[histogram]") {
  Histogram h;
  CHECK(fh::shm::histogramQuantile(h.fields(), h.buckets(), 0.5) == 0);
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> delay(9.0, 1.5);  // around 8 us, a long tail
  std::vector<uint64_t> values;
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const auto v = static_cast<int64_t>(delay(rng));
    values.push_back(static_cast<uint64_t>(v));
    sum += static_cast<double>(v);
    h.record(v);
  }
  h.record(-5);
  h.record(-1000);
  sum -= 1005;
  std::sort(values.begin(), values.end());
  const fh::shm::HistogramFields& f = h.fields();
  CHECK(f.count == 100002);
  CHECK(f.negative == 2);
  CHECK(f.min == values.front());
  CHECK(f.max == values.back());
  CHECK(f.sum == Approx(sum).epsilon(1e-12));
  uint64_t inBuckets = 0;
  for (uint32_t i = 0; i < kHistogramBuckets; ++i) inBuckets += h.buckets()[i];
  CHECK(inBuckets == 100000);
  for (const double q : {0.0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    INFO("q " << q);
    const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * 100000.0)));
    const uint64_t exact = values[rank - 1];
    const uint64_t got = fh::shm::histogramQuantile(f, h.buckets(), q);
    CHECK(got >= exact);
    CHECK(static_cast<double>(got) <= static_cast<double>(exact) * 1.0625 + 1);
    CHECK(got <= f.max);
  }
  CHECK(fh::shm::histogramQuantile(f, h.buckets(), 1.0) == f.max);
}

TEST_CASE("histogram: the region's copy equals the recorder's after every publish", "[histogram][shm]") {
  TempDir dir;
  fh::shm::RegionWriter w(withHistograms(dir));
  const Consumer c = attach(dir);
  REQUIRE(c.histogramCount() == 2);
  CHECK(c.histogramName(0) == "latency.one_ns");
  CHECK(c.histogramName(1) == "latency.two_ns");
  CHECK(c.histogramName(2).empty());
  auto copy = std::make_unique<fh::shm::HistogramSnapshot>();
  CHECK(c.copyHistogram(2, *copy) == fh::shm::CopyStatus::NoSuchInstrument);
  REQUIRE(c.copyHistogram(0, *copy) == fh::shm::CopyStatus::Ok);
  CHECK(copy->fields.count == 0);

  Histogram h;
  std::mt19937_64 rng(3);
  for (int round = 0; round < 5; ++round) {
    // Each round touches a different part of the range: only those buckets are written.
    std::uniform_int_distribution<int64_t> v(round * 1000, round * 1000 + 5000 * (round + 1));
    for (int i = 0; i < 1000; ++i) h.record(v(rng));
    if (round == 3) h.record(-1);  // only a total changes
    CHECK(h.touchedFrom() < h.touchedTo());
    w.publishHistogram(1, h);
    CHECK(h.touchedFrom() >= h.touchedTo());
    REQUIRE(c.copyHistogram(1, *copy) == fh::shm::CopyStatus::Ok);
    CHECK(std::memcmp(&copy->fields, &h.fields(), sizeof copy->fields) == 0);
    CHECK(std::equal(copy->buckets, copy->buckets + kHistogramBuckets, h.buckets()));
  }
  h.record(-7);  // no bucket touched, the count moved: published all the same
  w.publishHistogram(1, h);
  REQUIRE(c.copyHistogram(1, *copy) == fh::shm::CopyStatus::Ok);
  CHECK(copy->fields.negative == 2);
  CHECK(copy->quantile(0.5) == fh::shm::histogramQuantile(h.fields(), h.buckets(), 0.5));
  REQUIRE(c.copyHistogram(0, *copy) == fh::shm::CopyStatus::Ok);
  CHECK(copy->fields.count == 0);  // the other one untouched
}

TEST_CASE("histogram: a region without histograms has none, and bad names and counts are refused", "[histogram][shm]") {
  TempDir dir;
  {
    fh::shm::RegionWriter w(fh::test::smallRegion(dir));
    const Consumer c = attach(dir);
    CHECK(c.histogramCount() == 0);
    Histogram h;
    h.record(5);
    w.publishHistogram(0, h);  // no such slot: nothing written
  }
  fh::shm::RegionConfig c = withHistograms(dir);
  c.histograms.push_back(std::string(48, 'x'));
  CHECK_THROWS_WITH(fh::shm::RegionWriter(c), Catch::Contains("histogram name"));
  c.histograms.assign(17, "h");
  CHECK_THROWS_WITH(fh::shm::RegionWriter(c), Catch::Contains("at most 16"));
}

TEST_CASE("histogram: a region whose histogram header lies is refused", "[histogram][shm][hardening]") {
  TempDir dir;
  fh::shm::RegionWriter w(withHistograms(dir));
  auto& header = const_cast<fh::shm::RegionHeader&>(w.header());
  auto* slots =
      reinterpret_cast<fh::shm::HistogramSlot*>(reinterpret_cast<uint8_t*>(&header) + header.histogramsOffset);
  const auto refused = [&] {
    try {
      attach(dir);
    } catch (const fh::shm::AttachError& e) {
      return e.kind() == fh::shm::AttachError::Kind::NotARegion &&
             std::string(e.what()).find("histograms") != std::string::npos;
    }
    return false;
  };
  CHECK_FALSE(refused());
  SECTION("more slots than the file holds") {
    header.histogramCount = 16;
    CHECK(refused());
  }
  SECTION("more than the layout allows") {
    header.histogramCount = 1000;
    CHECK(refused());
  }
  SECTION("a slot of another size") {
    header.histogramBytes = 64;
    CHECK(refused());
  }
  SECTION("slots elsewhere") {
    header.histogramsOffset += 4096;
    CHECK(refused());
  }
  SECTION("buckets of another shape") {
    slots[1].bucketCount = 2000;
    CHECK(refused());
  }
}
