// The publisher stage: normalized records into the tick ring of a shared-
// memory region, the directory, and book snapshots under their seqlocks
// (shm/writer.h). It owns the counts of what it published. The feed's one
// worker thread; never blocks, never allocates.
#pragma once

#include <cstdint>

#include "feed/stages.h"
#include "record/record.h"
#include "shm/writer.h"

namespace fh::feed {

struct PublisherCounters {
  uint64_t records = 0;  // to the tick ring
  uint64_t books = 0;    // book snapshots
};

class RegionPublisher {
 public:
  explicit RegionPublisher(shm::RegionWriter& writer) noexcept : writer_(writer) {}

  template <class Record>
  void record(const Record& r) noexcept {
    if constexpr (requires { record::words(r); })
      writer_.publish(record::words(r));
    else
      writer_.publish(r);
    ++counters_.records;
  }
  void instrument(uint16_t id, const char (&symbol)[8], char tradingState) noexcept {
    writer_.setInstrument(id, symbol, tradingState);
  }
  void book(const BookView& s) noexcept {
    writer_.publishBook(s.instrument, s.fields, [&](int side, auto&& put) { s.changedLevels(side, put); });
    ++counters_.books;
  }
  void prefetchBook(uint16_t id, shm::LevelRange bidChanged, shm::LevelRange askChanged) const noexcept {
    writer_.prefetchBook(id, bidChanged, askChanged);
  }
  uint32_t depth() const noexcept { return writer_.depth(); }

  const PublisherCounters& counters() const noexcept { return counters_; }
  shm::RegionWriter& writer() noexcept { return writer_; }

 private:
  shm::RegionWriter& writer_;
  PublisherCounters counters_;
};
static_assert(RecordPublisher<RegionPublisher>);

}  // namespace fh::feed
