// Latency histograms in fixed log-linear buckets (HdrHistogram's shape, no
// allocation): the bucket arithmetic shared by the writer and every reader,
// the recorder a stage keeps on its own thread, and the reader's quantiles.
// Values are nanoseconds. 0..31 have a bucket each; above, every power of two
// [2^e, 2^(e+1)), e = 5..63, is cut into 16 equal buckets, so a bucket is at
// most 1/16 (6.25%) of its values wide. Each power of two is a bucket edge.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace fh::shm {

inline constexpr uint32_t kHistogramSubBits = 4;
inline constexpr uint32_t kHistogramSub = 1u << kHistogramSubBits;  // buckets per power of two
inline constexpr uint32_t kHistogramLinear = 2 * kHistogramSub;     // values with a bucket each
inline constexpr uint32_t kHistogramBuckets = kHistogramLinear + (63 - kHistogramSubBits) * kHistogramSub;
static_assert(kHistogramBuckets == 976);

constexpr uint32_t histogramBucket(uint64_t v) noexcept {
  if (v < kHistogramLinear) return static_cast<uint32_t>(v);
  const auto e = static_cast<uint32_t>(std::bit_width(v) - 1);  // 5..63
  const auto sub = static_cast<uint32_t>(v >> (e - kHistogramSubBits)) & (kHistogramSub - 1);
  return kHistogramLinear + (e - kHistogramSubBits - 1) * kHistogramSub + sub;
}
// The smallest and largest value of bucket i.
constexpr uint64_t histogramBucketLow(uint32_t i) noexcept {
  if (i < kHistogramLinear) return i;
  const uint32_t e = (i - kHistogramLinear) / kHistogramSub + kHistogramSubBits + 1;
  const uint64_t sub = (i - kHistogramLinear) % kHistogramSub;
  return (kHistogramSub + sub) << (e - kHistogramSubBits);
}
constexpr uint64_t histogramBucketHigh(uint32_t i) noexcept {
  return i + 1 < kHistogramBuckets ? histogramBucketLow(i + 1) - 1 : UINT64_MAX;
}
static_assert(histogramBucket(31) == 31 && histogramBucket(32) == 32 && histogramBucket(33) == 32 &&
              histogramBucket(34) == 33 && histogramBucket(UINT64_MAX) == kHistogramBuckets - 1);
static_assert(histogramBucketLow(32) == 32 && histogramBucketHigh(32) == 33 && histogramBucketLow(48) == 64 &&
              histogramBucketHigh(kHistogramBuckets - 2) == (uint64_t{31} << 59) - 1);

// The totals beside the buckets; in the region, eight words under the slot's seqlock.
struct HistogramFields {
  uint64_t count = 0;     // values recorded, negative ones included
  uint64_t negative = 0;  // values below 0 (the feed's clock ahead of ours): in no bucket
  uint64_t min = 0;       // of the values at or above 0 (0 while none)
  uint64_t max = 0;
  double sum = 0;  // of all values, negative ones included
  uint64_t reserved[3] = {};
};
static_assert(sizeof(HistogramFields) == 64);

// The recording side: one thread, a few instructions per value. The region's
// copy is brought up to date by RegionWriter::publishHistogram, which copies
// only the buckets touched since the last publish.
class Histogram {
 public:
  void record(int64_t value) noexcept {
    ++fields_.count;
    fields_.sum += static_cast<double>(value);
    if (value < 0) {
      ++fields_.negative;
      return;
    }
    const auto v = static_cast<uint64_t>(value);
    const uint32_t b = histogramBucket(v);
    ++buckets_[b];
    fields_.min = fields_.count - fields_.negative == 1 ? v : std::min(fields_.min, v);
    fields_.max = std::max(fields_.max, v);
    touchedFrom_ = std::min(touchedFrom_, b);
    touchedTo_ = std::max(touchedTo_, b + 1);
  }

  const HistogramFields& fields() const noexcept { return fields_; }
  const uint64_t* buckets() const noexcept { return buckets_; }
  // Buckets [from, to) changed since the last markPublished() (from >= to: none).
  uint32_t touchedFrom() const noexcept { return touchedFrom_; }
  uint32_t touchedTo() const noexcept { return touchedTo_; }
  void markPublished() noexcept {
    touchedFrom_ = kHistogramBuckets;
    touchedTo_ = 0;
  }

 private:
  HistogramFields fields_;
  uint32_t touchedFrom_ = kHistogramBuckets, touchedTo_ = 0;
  uint64_t buckets_[kHistogramBuckets] = {};
};

// The value at quantile q (0..1) of the values at or above 0: the largest
// value of the bucket that holds it, but never above the maximum (as
// HdrHistogram reports, so a quantile is never understated). 0 when empty.
inline uint64_t histogramQuantile(const HistogramFields& f, const uint64_t* buckets, double q) noexcept {
  const uint64_t counted = f.count - std::min(f.negative, f.count);
  if (counted == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(counted))));
  uint64_t seen = 0;
  for (uint32_t i = 0; i < kHistogramBuckets; ++i) {
    seen += buckets[i];
    if (seen >= rank) return std::min(histogramBucketHigh(i), f.max);
  }
  return f.max;
}

}  // namespace fh::shm
