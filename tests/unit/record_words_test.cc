// record.h's words(): a record's 8-byte words, assembled from its fields,
// are its bytes exactly, for every field's every byte (random records), and
// a region's ring holds the same bytes whichever way a record was published.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "process.h"
#include "record/record.h"
#include "shm/consumer.h"
#include "shm/writer.h"
#include "shm_fixture.h"

namespace {

namespace rec = fh::record;

template <class Record>
Record randomRecord(std::mt19937_64& rng) {
  Record r;
  auto* bytes = reinterpret_cast<unsigned char*>(&r);
  for (size_t i = 0; i < sizeof r; ++i) bytes[i] = static_cast<unsigned char>(rng());
  return r;
}

template <class Record>
void checkWords(std::mt19937_64& rng) {
  for (int i = 0; i < 10000; ++i) {
    const Record r = randomRecord<Record>(rng);
    const auto words = rec::words(r);
    static_assert(sizeof words == sizeof r);
    REQUIRE(std::memcmp(words.data(), &r, sizeof r) == 0);
  }
}

}  // namespace

TEST_CASE("record words: an MBO and an MBP-1 record's words are its bytes", "[record]") {
  std::mt19937_64 rng(7);
  checkWords<rec::MboMsg>(rng);
  checkWords<rec::Mbp1Msg>(rng);
}

TEST_CASE("record words: the ring holds the same bytes from the words as from the record", "[record][shm]") {
  const fh::test::TempDir dir;
  fh::shm::RegionWriter writer(fh::test::smallRegion(dir));
  fh::shm::Consumer::Options options;
  options.directory = dir.str();
  options.start = fh::shm::StartAt::Oldest;
  fh::shm::Consumer consumer("t", options);

  std::mt19937_64 rng(11);
  std::vector<std::vector<unsigned char>> published;
  const auto keep = [&](const auto& r) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&r);
    published.emplace_back(bytes, bytes + sizeof r);
  };
  for (int i = 0; i < 100; ++i) {
    const auto mbo = randomRecord<rec::MboMsg>(rng);
    const auto mbp1 = randomRecord<rec::Mbp1Msg>(rng);
    writer.publish(mbo);
    writer.publish(rec::words(mbo));
    writer.publish(mbp1);
    writer.publish(rec::words(mbp1));
    for (int copies = 0; copies < 2; ++copies) keep(mbo);
    for (int copies = 0; copies < 2; ++copies) keep(mbp1);
  }
  size_t seen = 0;
  while (consumer
             .poll([&](const fh::shm::Tick& t) {
               REQUIRE(seen < published.size());
               const auto& expected = published[seen++];
               REQUIRE(t.bytes == expected.size());
               CHECK(std::memcmp(t.header, expected.data(), expected.size()) == 0);
             })
             .records > 0) {
  }
  CHECK(seen == published.size());
}
