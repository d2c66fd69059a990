/* A C consumer of an fh region: prints one instrument's book, then the ticks
 * as they come, for N records or T seconds (or until Ctrl-C).
 *
 *   consumer_c [-d DIR] [-n RECORDS] [-t SECONDS] [-o] NAME SYMBOL
 *
 * Links only libfh_consumer.so and includes only shm/fh_consumer.h. */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "shm/fh_consumer.h"

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int signo) {
  (void)signo;
  stop_requested = 1;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_price(int64_t price) {
  if (price == FH_UNDEF_PRICE)
    printf("-");
  else
    printf("%.4f", (double)price / FH_PRICE_SCALE);
}

static int print_book(const fh_consumer* consumer, const char* symbol) {
  uint16_t locate = 0;
  fh_book book; /* about 3 KiB */
  if (fh_consumer_find(consumer, symbol, &locate) != FH_OK || fh_consumer_copy_book(consumer, locate, &book) != FH_OK) {
    fprintf(stderr, "%s: %s\n", symbol, fh_last_error());
    return -1;
  }
  printf("%s (locate %u): %u bids, %u asks, last sequence %" PRIu64 "%s\n", symbol, locate, book.bid_levels,
         book.ask_levels, book.last_sequence,
         book.status == FH_BOOK_STALE     ? ", stale"
         : book.status == FH_BOOK_JOINING ? ", joining (incomplete)"
                                          : "");
  for (unsigned i = 0; i < book.bid_levels; ++i) {
    printf("  bid %" PRIu64 " @ ", book.bids[i].shares);
    print_price(book.bids[i].price);
    printf(" (%u orders)\n", book.bids[i].orders);
  }
  for (unsigned i = 0; i < book.ask_levels; ++i) {
    printf("  ask %" PRIu64 " @ ", book.asks[i].shares);
    print_price(book.asks[i].price);
    printf(" (%u orders)\n", book.asks[i].orders);
  }
  return 0;
}

/* Called by fh_consumer_poll for each tick; the record is valid only here. */
static void print_tick(const fh_tick* tick, void* user_data) {
  (void)user_data;
  printf("tick %" PRIu64 ": ", tick->index);
  if (tick->mbo != NULL) {
    const fh_mbo_msg* m = tick->mbo;
    printf("mbo %u %c %c %u @ ", m->hd.instrument_id, m->action, m->side, m->size);
    print_price(m->price);
    printf(" order %" PRIu64 "\n", m->order_id);
  } else if (tick->mbp1 != NULL) {
    const fh_mbp1_msg* m = tick->mbp1;
    printf("mbp1 %u %c %c %u @ ", m->hd.instrument_id, m->action, m->side, m->size);
    print_price(m->price);
    printf(" | %u @ ", m->levels[0].bid_sz);
    print_price(m->levels[0].bid_px);
    printf(" x ");
    print_price(m->levels[0].ask_px);
    printf(" @ %u\n", m->levels[0].ask_sz);
  } else if (tick->status != NULL) {
    const fh_status_msg* m = tick->status;
    printf("status %u action %u reason %u trading %c\n", m->hd.instrument_id, m->action, m->reason, m->is_trading);
  } else {
    printf("rtype 0x%02x, %u bytes\n", tick->rtype, tick->length);
  }
}

static int usage(const char* program) {
  fprintf(stderr, "usage: %s [-d DIR] [-n RECORDS] [-t SECONDS] [-o] NAME SYMBOL\n", program);
  return 2;
}

int main(int argc, char** argv) {
  fh_consumer_options options;
  fh_consumer_options_init(&options);
  unsigned long max_records = 20;
  double max_seconds = 10;
  int opt;
  while ((opt = getopt(argc, argv, "d:n:t:o")) != -1) {
    switch (opt) {
      case 'd':
        options.directory = optarg;
        break;
      case 'n':
        max_records = strtoul(optarg, NULL, 10);
        break;
      case 't':
        max_seconds = strtod(optarg, NULL);
        break;
      case 'o':
        options.start = FH_START_OLDEST;
        break;
      default:
        return usage(argv[0]);
    }
  }
  if (argc - optind != 2) return usage(argv[0]);
  const char* name = argv[optind];
  const char* symbol = argv[optind + 1];

  fh_consumer* consumer = NULL;
  const fh_status opened = fh_consumer_open(name, &options, &consumer);
  if (opened != FH_OK) {
    fprintf(stderr, "%s: %s\n", fh_status_name(opened), fh_last_error());
    return 1;
  }
  printf("attached to %s, generation %" PRIu64 ", depth %u, writer %s\n", fh_consumer_path(consumer),
         fh_consumer_generation(consumer), fh_consumer_depth(consumer),
         fh_consumer_writer_status(consumer) == FH_WRITER_RUNNING ? "running" : "not running");
  if (print_book(consumer, symbol) != 0) {
    fh_consumer_close(consumer);
    return 1;
  }
  fflush(stdout);

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  unsigned long records = 0, reattached = 0;
  uint64_t lost = 0;
  const double deadline = seconds_now() + max_seconds;
  while (records < max_records && !stop_requested && seconds_now() < deadline) {
    fh_poll_result r;
    const uint32_t batch = max_records - records < 1024 ? (uint32_t)(max_records - records) : 1024;
    if (fh_consumer_poll(consumer, print_tick, NULL, batch, &r) != FH_OK) {
      fprintf(stderr, "poll: %s\n", fh_last_error());
      break;
    }
    records += r.records;
    lost += r.lost;
    if (r.lost != 0) printf("lapped: %" PRIu64 " records lost\n", r.lost);
    if (r.reattached) {
      ++reattached;
      printf("reattached: generation %" PRIu64 "\n", fh_consumer_generation(consumer));
    }
    fflush(stdout);
    if (r.records == 0) {
      const struct timespec idle = {0, 1000000}; /* a real consumer may spin instead */
      nanosleep(&idle, NULL);
    }
  }
  printf("done: %lu records, %" PRIu64 " lost, %lu reattached\n", records, lost, reattached);
  fh_consumer_close(consumer);
  return 0;
}
