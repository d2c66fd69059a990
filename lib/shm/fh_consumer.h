/* The C ABI of the consumer library (libfh_consumer.so): attach read-only to a
 * daemon's shared-memory region, copy books, poll the tick ring, read counters.
 * C99, usable from C and through Python's ctypes. A handle is used by one
 * thread at a time; any number of handles per process. No call blocks or
 * takes a lock; none lets a C++ exception out. */
#ifndef FH_CONSUMER_H
#define FH_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fh_status {
  FH_OK = 0,
  FH_ERR_NOT_FOUND = 1,     /* no region under that name (is fhd running?) */
  FH_ERR_PERMISSION = 2,    /* the region exists; this user may not read it */
  FH_ERR_NOT_A_REGION = 3,  /* the file is not an fh region, or is inconsistent */
  FH_ERR_VERSION = 4,       /* a layout major version this library does not know */
  FH_ERR_INCOMPLETE = 5,    /* the region is still being made */
  FH_ERR_SYSTEM = 6,        /* a system call failed, or memory ran out */
  FH_ERR_ARGUMENT = 7,      /* a NULL or out-of-range argument */
  FH_ERR_NO_INSTRUMENT = 8, /* no instrument with that symbol or locate */
  FH_ERR_WRITER_STUCK = 9,  /* the writer held a seqlock all along (it may have died mid-update) */
  FH_ERR_NO_COUNTER = 10,   /* no counter (or histogram) with that name or index */
  FH_ERR_UNTRUSTED = 11     /* the region's owner is not root, this user, or one FH_TRUSTED_WRITERS names */
} fh_status;

/* The message of the last call on this thread that did not return FH_OK;
 * valid until the next failing call on this thread. Never NULL. */
const char* fh_last_error(void);
/* "FH_OK", "FH_ERR_NOT_FOUND", ... */
const char* fh_status_name(fh_status status);

/* ---- attaching ---- */

typedef struct fh_consumer fh_consumer;

enum { FH_START_LIVE = 0, FH_START_OLDEST = 1 };

typedef struct fh_consumer_options {
  const char* directory; /* where regions live; NULL: "/dev/shm" */
  uint32_t start;        /* FH_START_LIVE: the next record published; FH_START_OLDEST: the oldest findable */
  uint32_t reserved;
  uint64_t stale_after_ns;   /* a running writer without a heartbeat this long is FH_WRITER_STALE */
  uint64_t refresh_every_ns; /* an idle poll looks for a new writer this often (0: on every idle poll) */
} fh_consumer_options;

/* The defaults: /dev/shm, live, stale after 2 s, refresh every 100 ms. */
void fh_consumer_options_init(fh_consumer_options* options);

/* Attaches to DIRECTORY/NAME; `options` may be NULL for the defaults. On
 * success *out is a new handle, to be closed with fh_consumer_close(). */
fh_status fh_consumer_open(const char* name, const fh_consumer_options* options, fh_consumer** out);
void fh_consumer_close(fh_consumer* consumer); /* NULL is fine */

/* The region: file path (valid while the handle lives), the writer's
 * generation (changes on every writer start), levels per book side,
 * instrument slots (locates 0 .. max-1). */
const char* fh_consumer_path(const fh_consumer* consumer);
uint64_t fh_consumer_generation(const fh_consumer* consumer);
uint32_t fh_consumer_depth(const fh_consumer* consumer);
uint32_t fh_consumer_max_instruments(const fh_consumer* consumer);

typedef enum fh_writer_status { FH_WRITER_RUNNING = 0, FH_WRITER_STOPPED = 1, FH_WRITER_STALE = 2 } fh_writer_status;
fh_writer_status fh_consumer_writer_status(const fh_consumer* consumer);

/* Looks for a new writer under the same name now (poll does it by itself when
 * idle); *reattached (may be NULL) is 1 if the handle now reads a new region. */
fh_status fh_consumer_refresh(fh_consumer* consumer, int* reattached);

/* ---- instruments ---- */

typedef struct fh_instrument {
  uint16_t locate;    /* the stock locate, also the records' instrument_id */
  char symbol[9];     /* trimmed, NUL-terminated; empty while unknown */
  char trading_state; /* 'H' halted, 'P' paused, 'Q' quotation only, 'T' trading, ' ' unknown */
} fh_instrument;

/* The first instrument with this symbol (e.g. "AAPL"); FH_ERR_NO_INSTRUMENT if none. */
fh_status fh_consumer_find(const fh_consumer* consumer, const char* symbol, uint16_t* locate);
/* FH_ERR_NO_INSTRUMENT when locate >= max instruments. */
fh_status fh_consumer_instrument(const fh_consumer* consumer, uint16_t locate, fh_instrument* out);

/* ---- books ---- */

#define FH_MAX_DEPTH 64
#define FH_PRICE_SCALE 1000000000LL /* prices are int64 in units of 1e-9 */
#define FH_UNDEF_PRICE INT64_MAX

enum { FH_BOOK_NORMAL = 0, FH_BOOK_HALTED = 1, FH_BOOK_STALE = 2, FH_BOOK_JOINING = 3 };

typedef struct fh_level {
  int64_t price;
  uint64_t shares; /* open shares at the price */
  uint32_t orders;
  uint32_t reserved;
} fh_level;

typedef struct fh_book {
  uint16_t locate;
  uint16_t bid_levels; /* levels filled in bids[] and asks[], best first */
  uint16_t ask_levels;
  uint8_t status; /* FH_BOOK_* */
  char trading_state;
  uint32_t instrument_id;
  uint32_t reserved;
  uint64_t last_sequence; /* feed sequence number of the last message applied */
  uint64_t ts_event;      /* of that message, ns since the UNIX epoch */
  uint64_t ts_recv;
  uint64_t updates; /* messages applied to this book */
  fh_level bids[FH_MAX_DEPTH];
  fh_level asks[FH_MAX_DEPTH];
} fh_book;

/* A consistent copy of one book (about 3 KiB). */
fh_status fh_consumer_copy_book(const fh_consumer* consumer, uint16_t locate, fh_book* out);

/* ---- ticks: DBN-style records, same layouts as Databento's DBN ---- */

enum { FH_RTYPE_MBP1 = 0x01, FH_RTYPE_STATUS = 0x12, FH_RTYPE_MBO = 0xA0 };

enum {
  FH_FLAG_LAST = 1 << 7, /* last record of an event for the instrument */
  FH_FLAG_TOB = 1 << 6,
  FH_FLAG_SNAPSHOT = 1 << 5,
  FH_FLAG_MBP = 1 << 4,
  FH_FLAG_BAD_TS_RECV = 1 << 3,
  FH_FLAG_MAYBE_BAD_BOOK = 1 << 2 /* the book may be wrong (unrecovered gap) */
};

typedef struct fh_record_header {
  uint8_t length; /* in units of 4 bytes */
  uint8_t rtype;  /* FH_RTYPE_* */
  uint16_t publisher_id;
  uint32_t instrument_id; /* the stock locate */
  uint64_t ts_event;      /* ns since the UNIX epoch */
} fh_record_header;

typedef struct fh_mbo_msg {
  fh_record_header hd;
  uint64_t order_id;
  int64_t price;
  uint32_t size;
  uint8_t flags;
  uint8_t channel_id;
  char action; /* 'A' add, 'C' cancel, 'M' modify, 'R' clear, 'T' trade, 'F' fill, 'N' none */
  char side;   /* 'A' ask, 'B' bid, 'N' none */
  uint64_t ts_recv;
  int32_t ts_in_delta;
  uint32_t sequence;
} fh_mbo_msg;

typedef struct fh_bid_ask_pair {
  int64_t bid_px;
  int64_t ask_px;
  uint32_t bid_sz;
  uint32_t ask_sz;
  uint32_t bid_ct;
  uint32_t ask_ct;
} fh_bid_ask_pair;

typedef struct fh_mbp1_msg {
  fh_record_header hd;
  int64_t price;
  uint32_t size;
  char action;
  char side;
  uint8_t flags;
  uint8_t depth;
  uint64_t ts_recv;
  int32_t ts_in_delta;
  uint32_t sequence;
  fh_bid_ask_pair levels[1];
} fh_mbp1_msg;

enum {
  FH_STATUS_ACTION_NONE = 0,
  FH_STATUS_ACTION_QUOTING = 3,
  FH_STATUS_ACTION_TRADING = 7,
  FH_STATUS_ACTION_HALT = 8,
  FH_STATUS_ACTION_PAUSE = 9
};
enum {
  FH_STATUS_REASON_NONE = 0,
  FH_STATUS_REASON_BOOK_STALE = 100,
  FH_STATUS_REASON_BOOK_RECOVERED = 101,
  FH_STATUS_REASON_BOOK_JOINING = 102
};

typedef struct fh_status_msg {
  fh_record_header hd;
  uint64_t ts_recv;
  uint16_t action; /* FH_STATUS_ACTION_* */
  uint16_t reason; /* FH_STATUS_REASON_* */
  uint16_t trading_event;
  char is_trading; /* 'Y', 'N' or '~' */
  char is_quoting;
  char is_short_sell_restricted;
  uint8_t reserved[7];
} fh_status_msg;

/* One tick, valid only during the callback. Exactly one of mbo, mbp1 and
 * status is set when rtype is one of theirs; `record` always is. */
typedef struct fh_tick {
  uint64_t index;     /* 0, 1, 2...: the writer's count of records before this one */
  const void* record; /* the record's bytes, starting with an fh_record_header */
  uint32_t length;    /* bytes at record */
  uint8_t rtype;
  const fh_mbo_msg* mbo;
  const fh_mbp1_msg* mbp1;
  const fh_status_msg* status;
} fh_tick;

typedef void (*fh_tick_fn)(const fh_tick* tick, void* user_data);

typedef struct fh_poll_result {
  uint32_t records;    /* handed to the callback */
  uint32_t reattached; /* 1: a new writer; the handle reads its region now, resync from the books */
  uint64_t lost;       /* records skipped because the writer lapped this reader (it resumes at the newest) */
} fh_poll_result;

/* Hands each new tick to callback(tick, user_data), at most max_records (> 0)
 * of them; `out` may be NULL. When there is none and refresh_every_ns has
 * passed, looks for a new writer under the same name. FH_ERR_NOT_A_REGION
 * when the ring lies (its indexes point at no record, again and again):
 * stop reading that region. Never blocks, never loops without bound. */
fh_status fh_consumer_poll(fh_consumer* consumer, fh_tick_fn callback, void* user_data, uint32_t max_records,
                           fh_poll_result* out);

/* ---- counters ---- */

#define FH_COUNTER_NAME_MAX 56 /* bytes, NUL included */

uint32_t fh_consumer_counter_count(const fh_consumer* consumer);
/* Copies the name into name[size]; FH_ERR_ARGUMENT if it does not fit. */
fh_status fh_consumer_counter_name(const fh_consumer* consumer, uint32_t index, char* name, size_t size);
fh_status fh_consumer_counter_value(const fh_consumer* consumer, uint32_t index, uint64_t* value);
fh_status fh_consumer_find_counter(const fh_consumer* consumer, const char* name, uint32_t* index);

/* ---- latency histograms (layout 1.3: none in an older region's) ----
 * Values in ns, in fixed log-linear buckets: 0..31 one each, then 16 per
 * power of two, so a bucket is at most 6.25% of its values wide. */

#define FH_HISTOGRAM_BUCKETS 976
#define FH_HISTOGRAM_NAME_MAX 48 /* bytes, NUL included */

typedef struct fh_histogram {
  uint64_t count;    /* values recorded, negative ones included */
  uint64_t negative; /* values below 0 (the feed's clock ahead of ours): in no bucket */
  uint64_t min;      /* of the values at or above 0 */
  uint64_t max;
  double sum; /* of all values */
  uint64_t reserved[3];
  uint64_t buckets[FH_HISTOGRAM_BUCKETS];
} fh_histogram;

uint32_t fh_consumer_histogram_count(const fh_consumer* consumer);
/* Copies the name (e.g. "latency.feed_to_receive_ns") into name[size]; FH_ERR_ARGUMENT if it does not fit. */
fh_status fh_consumer_histogram_name(const fh_consumer* consumer, uint32_t index, char* name, size_t size);
/* A whole copy (count is negative plus the buckets' sum); FH_ERR_NO_COUNTER for no such index. */
fh_status fh_consumer_copy_histogram(const fh_consumer* consumer, uint32_t index, fh_histogram* out);
/* The smallest and largest value of bucket i (< FH_HISTOGRAM_BUCKETS). */
uint64_t fh_histogram_bucket_low(uint32_t bucket);
uint64_t fh_histogram_bucket_high(uint32_t bucket);
/* The value at quantile q (0..1) of the values at or above 0: its bucket's
 * largest value, never above max (never understated). 0 when empty. */
uint64_t fh_histogram_quantile(const fh_histogram* histogram, double q);

#ifdef __cplusplus
}
#endif

#endif /* FH_CONSUMER_H */
