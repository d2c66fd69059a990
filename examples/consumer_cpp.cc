// A C++ consumer of an fh region: prints one instrument's book, then the
// ticks as they come, for N records or T seconds (or until Ctrl-C).
//
//   consumer_cpp [-d DIR] [-n RECORDS] [-t SECONDS] [-o] NAME SYMBOL
//
// Links the static consumer library and uses its C++ API (shm/consumer.h).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "shm/consumer.h"

namespace {

volatile std::sig_atomic_t stopRequested = 0;

struct Price {
  int64_t value;
};
std::ostream& operator<<(std::ostream& out, Price p) {
  if (p.value == fh::record::kUndefPrice) return out << '-';
  return out << std::fixed << std::setprecision(4) << double(p.value) / double(fh::record::kPriceScale);
}

bool printBook(const fh::shm::Consumer& consumer, const std::string& symbol) {
  const std::optional<uint16_t> locate = consumer.find(symbol);
  if (!locate) {
    std::cerr << symbol << ": no such instrument\n";
    return false;
  }
  auto book = std::make_unique<fh::shm::BookSnapshot>();  // about 3 KiB
  if (consumer.copyBook(*locate, *book) != fh::shm::CopyStatus::Ok) {
    std::cerr << symbol << ": the writer holds the book's lock\n";
    return false;
  }
  const fh::shm::BookFields& f = book->fields;
  std::cout << symbol << " (locate " << *locate << "): " << f.bidLevels << " bids, " << f.askLevels
            << " asks, last sequence " << f.lastSequence
            << (f.status == fh::shm::BookStatus::Stale     ? ", stale"
                : f.status == fh::shm::BookStatus::Joining ? ", joining (incomplete)"
                                                           : "")
            << '\n';
  for (uint32_t i = 0; i < f.bidLevels; ++i)
    std::cout << "  bid " << book->bids[i].shares << " @ " << Price{book->bids[i].price} << " (" << book->bids[i].orders
              << " orders)\n";
  for (uint32_t i = 0; i < f.askLevels; ++i)
    std::cout << "  ask " << book->asks[i].shares << " @ " << Price{book->asks[i].price} << " (" << book->asks[i].orders
              << " orders)\n";
  return true;
}

// The record behind a tick is valid only during the call.
void printTick(const fh::shm::Tick& tick) {
  std::cout << "tick " << tick.index << ": ";
  if (const auto* mbo = tick.mbo()) {
    std::cout << "mbo " << mbo->hd.instrumentId << ' ' << char(mbo->action) << ' ' << char(mbo->side) << ' '
              << mbo->size << " @ " << Price{mbo->price} << " order " << mbo->orderId << '\n';
  } else if (const auto* mbp1 = tick.mbp1()) {
    const fh::record::BidAskPair& top = mbp1->levels[0];
    std::cout << "mbp1 " << mbp1->hd.instrumentId << ' ' << char(mbp1->action) << ' ' << char(mbp1->side) << ' '
              << mbp1->size << " @ " << Price{mbp1->price} << " | " << top.bidSz << " @ " << Price{top.bidPx} << " x "
              << Price{top.askPx} << " @ " << top.askSz << '\n';
  } else if (const auto* status = tick.status()) {
    std::cout << "status " << status->hd.instrumentId << " action " << uint16_t(status->action) << " reason "
              << uint16_t(status->reason) << " trading " << status->isTrading << '\n';
  } else {
    std::cout << "rtype 0x" << std::hex << std::setw(2) << std::setfill('0') << unsigned(tick.rtype()) << std::dec
              << std::setfill(' ') << ", " << tick.bytes << " bytes\n";
  }
}

int usage(const char* program) {
  std::cerr << "usage: " << program << " [-d DIR] [-n RECORDS] [-t SECONDS] [-o] NAME SYMBOL\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  fh::shm::Consumer::Options options;
  uint64_t maxRecords = 20;
  double maxSeconds = 10;
  for (int opt; (opt = ::getopt(argc, argv, "d:n:t:o")) != -1;) {
    switch (opt) {
      case 'd':
        options.directory = optarg;
        break;
      case 'n':
        maxRecords = std::stoull(optarg);
        break;
      case 't':
        maxSeconds = std::stod(optarg);
        break;
      case 'o':
        options.start = fh::shm::StartAt::Oldest;
        break;
      default:
        return usage(argv[0]);
    }
  }
  if (argc - optind != 2) return usage(argv[0]);
  const std::string name = argv[optind];
  const std::string symbol = argv[optind + 1];

  std::optional<fh::shm::Consumer> consumer;
  try {
    consumer.emplace(name, options);
  } catch (const fh::shm::AttachError& e) {
    std::cerr << e.what() << '\n';
    return 1;
  }
  std::cout << "attached to " << consumer->path() << ", generation " << consumer->generation() << ", depth "
            << consumer->depth() << ", writer "
            << (consumer->writerStatus() == fh::shm::WriterStatus::Running ? "running" : "not running") << '\n';
  if (!printBook(*consumer, symbol)) return 1;
  std::cout << std::flush;

  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  uint64_t records = 0, lost = 0, reattached = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(maxSeconds);
  while (records < maxRecords && !stopRequested && std::chrono::steady_clock::now() < deadline) {
    const auto batch = static_cast<uint32_t>(std::min<uint64_t>(maxRecords - records, 1024));
    const fh::shm::PollResult r = consumer->poll(printTick, batch);
    records += r.records;
    lost += r.lost;
    if (r.lost != 0) std::cout << "lapped: " << r.lost << " records lost\n";
    if (r.reattached) {
      ++reattached;
      std::cout << "reattached: generation " << consumer->generation() << '\n';
    }
    std::cout << std::flush;
    if (r.records == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a real consumer may spin
  }
  std::cout << "done: " << records << " records, " << lost << " lost, " << reattached << " reattached\n";
  return 0;
}
