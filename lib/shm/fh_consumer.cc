#include "shm/fh_consumer.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "shm/consumer.h"

namespace {

namespace rec = fh::record;
namespace shm = fh::shm;

// The C mirrors must be the C++ records byte for byte: a tick hands out a
// pointer to the same bytes under the C type.
#define FH_SAME_FIELD(C, Cpp, c_field, cpp_field) \
  static_assert(offsetof(C, c_field) == offsetof(Cpp, cpp_field) && sizeof(C::c_field) == sizeof(Cpp::cpp_field))

// A histogram is copied straight into the C struct.
static_assert(FH_HISTOGRAM_BUCKETS == shm::kHistogramBuckets &&
              FH_HISTOGRAM_NAME_MAX == sizeof(shm::HistogramSlot::name));
static_assert(sizeof(fh_histogram) == sizeof(shm::HistogramSnapshot) &&
              alignof(fh_histogram) == alignof(shm::HistogramSnapshot));
FH_SAME_FIELD(fh_histogram, shm::HistogramSnapshot, count, fields.count);
FH_SAME_FIELD(fh_histogram, shm::HistogramSnapshot, negative, fields.negative);
FH_SAME_FIELD(fh_histogram, shm::HistogramSnapshot, min, fields.min);
FH_SAME_FIELD(fh_histogram, shm::HistogramSnapshot, max, fields.max);
FH_SAME_FIELD(fh_histogram, shm::HistogramSnapshot, sum, fields.sum);
FH_SAME_FIELD(fh_histogram, shm::HistogramSnapshot, buckets, buckets);

static_assert(sizeof(fh_record_header) == sizeof(rec::RecordHeader));
FH_SAME_FIELD(fh_record_header, rec::RecordHeader, length, length);
FH_SAME_FIELD(fh_record_header, rec::RecordHeader, rtype, rtype);
FH_SAME_FIELD(fh_record_header, rec::RecordHeader, publisher_id, publisherId);
FH_SAME_FIELD(fh_record_header, rec::RecordHeader, instrument_id, instrumentId);
FH_SAME_FIELD(fh_record_header, rec::RecordHeader, ts_event, tsEvent);

static_assert(sizeof(fh_mbo_msg) == sizeof(rec::MboMsg) && alignof(fh_mbo_msg) == alignof(rec::MboMsg));
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, hd, hd);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, order_id, orderId);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, price, price);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, size, size);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, flags, flags);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, channel_id, channelId);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, action, action);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, side, side);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, ts_recv, tsRecv);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, ts_in_delta, tsInDelta);
FH_SAME_FIELD(fh_mbo_msg, rec::MboMsg, sequence, sequence);

static_assert(sizeof(fh_bid_ask_pair) == sizeof(rec::BidAskPair));
FH_SAME_FIELD(fh_bid_ask_pair, rec::BidAskPair, bid_px, bidPx);
FH_SAME_FIELD(fh_bid_ask_pair, rec::BidAskPair, ask_px, askPx);
FH_SAME_FIELD(fh_bid_ask_pair, rec::BidAskPair, bid_sz, bidSz);
FH_SAME_FIELD(fh_bid_ask_pair, rec::BidAskPair, ask_sz, askSz);
FH_SAME_FIELD(fh_bid_ask_pair, rec::BidAskPair, bid_ct, bidCt);
FH_SAME_FIELD(fh_bid_ask_pair, rec::BidAskPair, ask_ct, askCt);

static_assert(sizeof(fh_mbp1_msg) == sizeof(rec::Mbp1Msg) && alignof(fh_mbp1_msg) == alignof(rec::Mbp1Msg));
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, hd, hd);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, price, price);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, size, size);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, action, action);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, side, side);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, flags, flags);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, depth, depth);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, ts_recv, tsRecv);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, ts_in_delta, tsInDelta);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, sequence, sequence);
FH_SAME_FIELD(fh_mbp1_msg, rec::Mbp1Msg, levels, levels);

static_assert(sizeof(fh_status_msg) == sizeof(rec::StatusMsg) && alignof(fh_status_msg) == alignof(rec::StatusMsg));
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, hd, hd);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, ts_recv, tsRecv);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, action, action);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, reason, reason);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, trading_event, tradingEvent);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, is_trading, isTrading);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, is_quoting, isQuoting);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, is_short_sell_restricted, isShortSellRestricted);
FH_SAME_FIELD(fh_status_msg, rec::StatusMsg, reserved, reserved);

static_assert(sizeof(fh_level) == sizeof(shm::Level));
FH_SAME_FIELD(fh_level, shm::Level, price, price);
FH_SAME_FIELD(fh_level, shm::Level, shares, shares);
FH_SAME_FIELD(fh_level, shm::Level, orders, orders);
static_assert(FH_MAX_DEPTH == shm::kMaxDepth);
static_assert(FH_COUNTER_NAME_MAX == sizeof(shm::CounterSlot::name));
static_assert(FH_PRICE_SCALE == rec::kPriceScale && FH_UNDEF_PRICE == rec::kUndefPrice);
static_assert(FH_RTYPE_MBO == int(rec::RType::Mbo) && FH_RTYPE_MBP1 == int(rec::RType::Mbp1) &&
              FH_RTYPE_STATUS == int(rec::RType::Status));
static_assert(FH_FLAG_LAST == rec::flags::kLast && FH_FLAG_TOB == rec::flags::kTob &&
              FH_FLAG_SNAPSHOT == rec::flags::kSnapshot && FH_FLAG_MBP == rec::flags::kMbp &&
              FH_FLAG_BAD_TS_RECV == rec::flags::kBadTsRecv && FH_FLAG_MAYBE_BAD_BOOK == rec::flags::kMaybeBadBook);
static_assert(FH_BOOK_NORMAL == int(shm::BookStatus::Normal) && FH_BOOK_HALTED == int(shm::BookStatus::Halted) &&
              FH_BOOK_STALE == int(shm::BookStatus::Stale) && FH_BOOK_JOINING == int(shm::BookStatus::Joining));
static_assert(FH_STATUS_ACTION_QUOTING == int(rec::StatusAction::Quoting) &&
              FH_STATUS_ACTION_TRADING == int(rec::StatusAction::Trading) &&
              FH_STATUS_ACTION_HALT == int(rec::StatusAction::Halt) &&
              FH_STATUS_ACTION_PAUSE == int(rec::StatusAction::Pause));
static_assert(FH_STATUS_REASON_BOOK_STALE == int(rec::StatusReason::BookStale) &&
              FH_STATUS_REASON_BOOK_RECOVERED == int(rec::StatusReason::BookRecovered) &&
              FH_STATUS_REASON_BOOK_JOINING == int(rec::StatusReason::BookJoining));
#undef FH_SAME_FIELD

thread_local std::string lastError;

fh_status fail(fh_status status, const char* message) noexcept {
  try {
    lastError = message;
  } catch (...) {
    lastError.clear();  // out of memory: the status alone must do
  }
  return status;
}

fh_status statusOf(shm::AttachError::Kind kind) noexcept {
  using Kind = shm::AttachError::Kind;
  switch (kind) {
    case Kind::NotFound:
      return FH_ERR_NOT_FOUND;
    case Kind::Permission:
      return FH_ERR_PERMISSION;
    case Kind::NotARegion:
      return FH_ERR_NOT_A_REGION;
    case Kind::VersionMismatch:
      return FH_ERR_VERSION;
    case Kind::Incomplete:
      return FH_ERR_INCOMPLETE;
    case Kind::System:
      return FH_ERR_SYSTEM;
    case Kind::Untrusted:
      return FH_ERR_UNTRUSTED;
  }
  return FH_ERR_SYSTEM;
}

// Called inside a catch block: turns whatever was thrown into a status.
fh_status failFromException() noexcept {
  try {
    throw;
  } catch (const shm::AttachError& e) {
    return fail(statusOf(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(FH_ERR_SYSTEM, "out of memory");
  } catch (const std::exception& e) {
    return fail(FH_ERR_SYSTEM, e.what());
  } catch (...) {
    return fail(FH_ERR_SYSTEM, "unknown exception");
  }
}

fh_status noConsumer() noexcept { return fail(FH_ERR_ARGUMENT, "the consumer handle is NULL"); }

}  // namespace

struct fh_consumer {
  shm::Consumer cpp;
};

extern "C" {

const char* fh_last_error(void) { return lastError.c_str(); }

const char* fh_status_name(fh_status status) {
  switch (status) {
    case FH_OK:
      return "FH_OK";
    case FH_ERR_NOT_FOUND:
      return "FH_ERR_NOT_FOUND";
    case FH_ERR_PERMISSION:
      return "FH_ERR_PERMISSION";
    case FH_ERR_NOT_A_REGION:
      return "FH_ERR_NOT_A_REGION";
    case FH_ERR_VERSION:
      return "FH_ERR_VERSION";
    case FH_ERR_INCOMPLETE:
      return "FH_ERR_INCOMPLETE";
    case FH_ERR_SYSTEM:
      return "FH_ERR_SYSTEM";
    case FH_ERR_ARGUMENT:
      return "FH_ERR_ARGUMENT";
    case FH_ERR_NO_INSTRUMENT:
      return "FH_ERR_NO_INSTRUMENT";
    case FH_ERR_WRITER_STUCK:
      return "FH_ERR_WRITER_STUCK";
    case FH_ERR_UNTRUSTED:
      return "FH_ERR_UNTRUSTED";
    case FH_ERR_NO_COUNTER:
      return "FH_ERR_NO_COUNTER";
  }
  return "FH_ERR_UNKNOWN";
}

void fh_consumer_options_init(fh_consumer_options* options) {
  if (options == nullptr) return;
  const shm::Consumer::Options defaults;
  *options = fh_consumer_options{};
  options->directory = nullptr;
  options->start = FH_START_LIVE;
  options->stale_after_ns = defaults.staleAfterNs;
  options->refresh_every_ns = defaults.refreshEveryNs;
}

fh_status fh_consumer_open(const char* name, const fh_consumer_options* options, fh_consumer** out) {
  if (out == nullptr) return fail(FH_ERR_ARGUMENT, "fh_consumer_open: out is NULL");
  *out = nullptr;
  if (name == nullptr) return fail(FH_ERR_ARGUMENT, "fh_consumer_open: name is NULL");
  if (options != nullptr && options->start != FH_START_LIVE && options->start != FH_START_OLDEST)
    return fail(FH_ERR_ARGUMENT, "fh_consumer_open: start is neither FH_START_LIVE nor FH_START_OLDEST");
  try {
    shm::Consumer::Options o;
    if (options != nullptr) {
      if (options->directory != nullptr) o.directory = options->directory;
      o.start = options->start == FH_START_OLDEST ? shm::StartAt::Oldest : shm::StartAt::Live;
      o.staleAfterNs = options->stale_after_ns;
      o.refreshEveryNs = options->refresh_every_ns;
    }
    *out = new fh_consumer{shm::Consumer(name, o)};
    return FH_OK;
  } catch (...) {
    return failFromException();
  }
}

void fh_consumer_close(fh_consumer* consumer) { delete consumer; }

const char* fh_consumer_path(const fh_consumer* c) { return c != nullptr ? c->cpp.path().c_str() : ""; }
uint64_t fh_consumer_generation(const fh_consumer* c) { return c != nullptr ? c->cpp.generation() : 0; }
uint32_t fh_consumer_depth(const fh_consumer* c) { return c != nullptr ? c->cpp.depth() : 0; }
uint32_t fh_consumer_max_instruments(const fh_consumer* c) { return c != nullptr ? c->cpp.maxInstruments() : 0; }

fh_writer_status fh_consumer_writer_status(const fh_consumer* c) {
  if (c == nullptr) return FH_WRITER_STOPPED;
  switch (c->cpp.writerStatus()) {
    case shm::WriterStatus::Running:
      return FH_WRITER_RUNNING;
    case shm::WriterStatus::Stopped:
      return FH_WRITER_STOPPED;
    case shm::WriterStatus::Stale:
      return FH_WRITER_STALE;
  }
  return FH_WRITER_STOPPED;
}

fh_status fh_consumer_refresh(fh_consumer* c, int* reattached) {
  if (reattached != nullptr) *reattached = 0;
  if (c == nullptr) return noConsumer();
  try {
    const bool again = c->cpp.refresh();
    if (reattached != nullptr) *reattached = again ? 1 : 0;
    return FH_OK;
  } catch (...) {
    return failFromException();
  }
}

fh_status fh_consumer_find(const fh_consumer* c, const char* symbol, uint16_t* locate) {
  if (c == nullptr) return noConsumer();
  if (symbol == nullptr || locate == nullptr)
    return fail(FH_ERR_ARGUMENT, "fh_consumer_find: symbol or locate is NULL");
  const std::optional<uint16_t> found = c->cpp.find(symbol);
  if (!found) return fail(FH_ERR_NO_INSTRUMENT, "no instrument with that symbol");
  *locate = *found;
  return FH_OK;
}

fh_status fh_consumer_instrument(const fh_consumer* c, uint16_t locate, fh_instrument* out) {
  if (c == nullptr) return noConsumer();
  if (out == nullptr) return fail(FH_ERR_ARGUMENT, "fh_consumer_instrument: out is NULL");
  if (locate >= c->cpp.maxInstruments()) return fail(FH_ERR_NO_INSTRUMENT, "locate beyond the region's instruments");
  shm::InstrumentInfo info;
  if (!c->cpp.instrument(locate, info)) return fail(FH_ERR_WRITER_STUCK, "the writer holds the directory entry's lock");
  *out = fh_instrument{};
  out->locate = info.locate;
  std::memcpy(out->symbol, info.symbol, sizeof out->symbol);
  out->trading_state = info.tradingState;
  return FH_OK;
}

fh_status fh_consumer_copy_book(const fh_consumer* c, uint16_t locate, fh_book* out) {
  if (c == nullptr) return noConsumer();
  if (out == nullptr) return fail(FH_ERR_ARGUMENT, "fh_consumer_copy_book: out is NULL");
  // Copied through a snapshot so that a stuck writer leaves *out untouched.
  shm::BookSnapshot snap;
  switch (c->cpp.copyBook(locate, snap)) {
    case shm::CopyStatus::Ok:
      break;
    case shm::CopyStatus::NoSuchInstrument:
      return fail(FH_ERR_NO_INSTRUMENT, "locate beyond the region's instruments");
    case shm::CopyStatus::WriterStuck:
      return fail(FH_ERR_WRITER_STUCK, "the writer holds the book's lock");
  }
  const shm::BookFields& f = snap.fields;
  out->locate = snap.locate;
  out->bid_levels = static_cast<uint16_t>(std::min<uint32_t>(f.bidLevels, c->cpp.depth()));
  out->ask_levels = static_cast<uint16_t>(std::min<uint32_t>(f.askLevels, c->cpp.depth()));
  out->status = static_cast<uint8_t>(f.status);
  out->trading_state = f.tradingState;
  out->instrument_id = f.instrumentId;
  out->reserved = 0;
  out->last_sequence = f.lastSequence;
  out->ts_event = f.tsEvent;
  out->ts_recv = f.tsRecv;
  out->updates = f.updates;
  std::memcpy(out->bids, snap.bids, out->bid_levels * sizeof(fh_level));
  std::memcpy(out->asks, snap.asks, out->ask_levels * sizeof(fh_level));
  std::memset(out->bids + out->bid_levels, 0, (FH_MAX_DEPTH - out->bid_levels) * sizeof(fh_level));
  std::memset(out->asks + out->ask_levels, 0, (FH_MAX_DEPTH - out->ask_levels) * sizeof(fh_level));
  return FH_OK;
}

fh_status fh_consumer_poll(fh_consumer* c, fh_tick_fn callback, void* user_data, uint32_t max_records,
                           fh_poll_result* out) {
  if (out != nullptr) *out = fh_poll_result{};
  if (c == nullptr) return noConsumer();
  if (callback == nullptr || max_records == 0)
    return fail(FH_ERR_ARGUMENT, "fh_consumer_poll: callback is NULL or max_records is 0");
  try {
    const shm::PollResult r = c->cpp.poll(
        [&](const shm::Tick& t) {
          fh_tick tick{};
          tick.index = t.index;
          tick.record = t.header;
          tick.length = t.bytes;
          tick.rtype = static_cast<uint8_t>(t.rtype());
          tick.mbo = reinterpret_cast<const fh_mbo_msg*>(t.mbo());
          tick.mbp1 = reinterpret_cast<const fh_mbp1_msg*>(t.mbp1());
          tick.status = reinterpret_cast<const fh_status_msg*>(t.status());
          callback(&tick, user_data);
        },
        max_records);
    if (out != nullptr) *out = fh_poll_result{r.records, r.reattached ? 1u : 0u, r.lost};
    if (r.invalid)
      return fail(FH_ERR_NOT_A_REGION, (c->cpp.path() + ": the ring lies: its indexes point at no record").c_str());
    return FH_OK;
  } catch (...) {
    return failFromException();
  }
}

uint32_t fh_consumer_counter_count(const fh_consumer* c) { return c != nullptr ? c->cpp.counterCount() : 0; }

fh_status fh_consumer_counter_name(const fh_consumer* c, uint32_t index, char* name, size_t size) {
  if (c == nullptr) return noConsumer();
  if (index >= c->cpp.counterCount()) return fail(FH_ERR_NO_COUNTER, "counter index beyond the region's counters");
  const std::string_view n = c->cpp.counterName(index);
  if (name == nullptr || size <= n.size()) return fail(FH_ERR_ARGUMENT, "fh_consumer_counter_name: buffer too small");
  std::memcpy(name, n.data(), n.size());
  name[n.size()] = '\0';
  return FH_OK;
}

fh_status fh_consumer_counter_value(const fh_consumer* c, uint32_t index, uint64_t* value) {
  if (c == nullptr) return noConsumer();
  if (value == nullptr) return fail(FH_ERR_ARGUMENT, "fh_consumer_counter_value: value is NULL");
  if (index >= c->cpp.counterCount()) return fail(FH_ERR_NO_COUNTER, "counter index beyond the region's counters");
  *value = c->cpp.counter(index);
  return FH_OK;
}

fh_status fh_consumer_find_counter(const fh_consumer* c, const char* name, uint32_t* index) {
  if (c == nullptr) return noConsumer();
  if (name == nullptr || index == nullptr)
    return fail(FH_ERR_ARGUMENT, "fh_consumer_find_counter: name or index is NULL");
  const std::optional<uint32_t> found = c->cpp.findCounter(name);
  if (!found) return fail(FH_ERR_NO_COUNTER, "no counter with that name");
  *index = *found;
  return FH_OK;
}

uint32_t fh_consumer_histogram_count(const fh_consumer* c) { return c != nullptr ? c->cpp.histogramCount() : 0; }

fh_status fh_consumer_histogram_name(const fh_consumer* c, uint32_t index, char* name, size_t size) {
  if (c == nullptr) return noConsumer();
  if (index >= c->cpp.histogramCount())
    return fail(FH_ERR_NO_COUNTER, "histogram index beyond the region's histograms");
  const std::string_view n = c->cpp.histogramName(index);
  if (name == nullptr || size <= n.size()) return fail(FH_ERR_ARGUMENT, "fh_consumer_histogram_name: buffer too small");
  std::memcpy(name, n.data(), n.size());
  name[n.size()] = '\0';
  return FH_OK;
}

fh_status fh_consumer_copy_histogram(const fh_consumer* c, uint32_t index, fh_histogram* out) {
  if (c == nullptr) return noConsumer();
  if (out == nullptr) return fail(FH_ERR_ARGUMENT, "fh_consumer_copy_histogram: out is NULL");
  switch (c->cpp.copyHistogram(index, *reinterpret_cast<shm::HistogramSnapshot*>(out))) {
    case shm::CopyStatus::Ok:
      return FH_OK;
    case shm::CopyStatus::NoSuchInstrument:
      return fail(FH_ERR_NO_COUNTER, "histogram index beyond the region's histograms");
    case shm::CopyStatus::WriterStuck:
      return fail(FH_ERR_WRITER_STUCK, "the writer holds the histogram's lock");
  }
  return fail(FH_ERR_SYSTEM, "fh_consumer_copy_histogram: unknown status");
}

uint64_t fh_histogram_bucket_low(uint32_t bucket) {
  return bucket < shm::kHistogramBuckets ? shm::histogramBucketLow(bucket) : 0;
}
uint64_t fh_histogram_bucket_high(uint32_t bucket) {
  return bucket < shm::kHistogramBuckets ? shm::histogramBucketHigh(bucket) : 0;
}
uint64_t fh_histogram_quantile(const fh_histogram* h, double q) {
  if (h == nullptr) return 0;
  const auto* snapshot = reinterpret_cast<const shm::HistogramSnapshot*>(h);
  return snapshot->quantile(q);
}

}  // extern "C"
