// NF525 chain verification: round trip, single-byte tampering, sequence gaps and the first-record
// rules, each reported at the first broken record.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "payload.h"
#include "signature.h"
#include "verify.h"

namespace fiscal::france {
namespace {

using namespace std::chrono_literals;

constexpr size_t kChainLength = 20;

TicketPayloadFields Ticket(uint64_t sequence) {
  TicketPayloadFields fields;
  // Every fifth ticket is a refund, so negative amounts run through the chain too.
  int64_t sign = sequence % 5 == 0 ? -1 : 1;
  fields.vat_totals = {{2000, sign * static_cast<int64_t>(100 * sequence + 7)}, {550, sign * 211}};
  fields.total_incl_tax_cents = fields.vat_totals[0].total_incl_tax_cents + sign * 211;
  fields.timestamp = std::chrono::sys_days(2026y / 3 / 2) + 9h + std::chrono::minutes(sequence);
  fields.register_id = "CAISSE-01";
  fields.sequence = sequence;
  fields.type = sign < 0 ? "REFUND" : "SALE";
  fields.first = sequence == 1;
  fields.digest = Sha256Base64Url("document of ticket " + std::to_string(sequence));
  return fields;
}

// Signs payloads in order, each chained to the signature before it.
std::vector<ChainRecord> SignPayloads(EVP_PKEY* key, const std::vector<std::string>& payloads,
                                      const std::string& previous = "") {
  std::vector<ChainRecord> records;
  std::string previous_signature = previous;
  for (const std::string& payload : payloads) {
    ChainRecord record{payload, ""};
    Status status = SignChainRecord(key, payload, previous_signature, &record.signature);
    EXPECT_TRUE(status.ok()) << status.message();
    previous_signature = record.signature;
    records.push_back(record);
  }
  return records;
}

std::vector<std::string> Payloads(const std::vector<TicketPayloadFields>& tickets) {
  std::vector<std::string> payloads;
  for (const TicketPayloadFields& ticket : tickets) {
    std::string payload;
    Status status = BuildTicketPayload(ticket, kTicketFormatV1, &payload);
    EXPECT_TRUE(status.ok()) << status.message();
    payloads.push_back(payload);
  }
  return payloads;
}

class FranceChain : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GenerateP256Key(&key_).ok());
    for (uint64_t sequence = 1; sequence <= kChainLength; ++sequence) {
      tickets_.push_back(Ticket(sequence));
    }
    records_ = SignPayloads(key_.get(), Payloads(tickets_));
  }

  ChainVerification Verify(const std::vector<ChainRecord>& records) {
    return VerifyChain(records, key_.get(), kTicketFormatV1);
  }

  EvpPkeyPtr key_;
  std::vector<TicketPayloadFields> tickets_;
  std::vector<ChainRecord> records_;
};

TEST_F(FranceChain, RoundTrip) {
  ASSERT_EQ(records_.size(), kChainLength);
  std::string digest = Sha256Base64Url("document of ticket 1");
  EXPECT_EQ(records_[0].payload.substr(records_[0].payload.size() - 15 - digest.size()),
            ",000001,SALE,Y," + digest);
  EXPECT_NE(records_[4].payload.find("-5.07|0550:-2.11,-7.18,"), std::string::npos)
      << records_[4].payload;
  ChainVerification result = Verify(records_);
  EXPECT_TRUE(result.ok()) << result.message;
  EXPECT_TRUE(Verify({}).ok());
}

TEST_F(FranceChain, TamperedPayloadByte) {
  for (size_t i = 0; i < records_.size(); ++i) {
    for (size_t j = 0; j < records_[i].payload.size(); ++j) {
      std::vector<ChainRecord> tampered = records_;
      tampered[i].payload[j] = tampered[i].payload[j] == '1' ? '2' : '1';
      ChainVerification result = Verify(tampered);
      ASSERT_FALSE(result.ok()) << "record " << i << " byte " << j;
      ASSERT_EQ(result.index, i) << "byte " << j << ": " << result.message;
    }
  }
}

TEST_F(FranceChain, TamperedSignatureByte) {
  for (size_t i = 0; i < records_.size(); ++i) {
    for (size_t j = 0; j < records_[i].signature.size(); ++j) {
      std::vector<ChainRecord> tampered = records_;
      tampered[i].signature[j] = tampered[i].signature[j] == 'A' ? 'B' : 'A';
      ChainVerification result = Verify(tampered);
      ASSERT_FALSE(result.ok()) << "record " << i << " byte " << j;
      ASSERT_EQ(result.index, i) << "byte " << j << ": " << result.message;
      ASSERT_EQ(result.sequence, i + 1);
      ASSERT_TRUE(result.failure == ChainFailure::kSignatureMismatch ||
                  result.failure == ChainFailure::kMalformedSignature)
          << ChainFailureName(result.failure);
    }
  }
}

TEST_F(FranceChain, ReportsFailureDetails) {
  std::vector<ChainRecord> tampered = records_;
  tampered[6].payload[0] = '1';  // rate 2000 becomes 1000
  ChainVerification result = Verify(tampered);
  EXPECT_EQ(result.failure, ChainFailure::kSignatureMismatch);
  EXPECT_EQ(result.index, 6u);
  EXPECT_EQ(result.sequence, 7u);
  EXPECT_EQ(ChainFailureName(result.failure), "signature_mismatch");
  EXPECT_NE(result.message.find("record 6 (sequence 7)"), std::string::npos) << result.message;
}

TEST_F(FranceChain, DeletedRecordIsGap) {
  std::vector<ChainRecord> records = records_;
  records.erase(records.begin() + 9);
  ChainVerification result = Verify(records);
  EXPECT_EQ(result.failure, ChainFailure::kSequenceGap);
  EXPECT_EQ(result.index, 9u);
  EXPECT_EQ(result.sequence, 11u);
}

TEST_F(FranceChain, SwappedRecordsDetected) {
  std::vector<ChainRecord> records = records_;
  std::swap(records[3], records[4]);
  ChainVerification result = Verify(records);
  EXPECT_EQ(result.failure, ChainFailure::kSequenceGap);
  EXPECT_EQ(result.index, 3u);
}

// Records correctly signed by the key holder but with a skipped number: the gap is the failure.
TEST_F(FranceChain, SignedGapDetected) {
  std::vector<TicketPayloadFields> tickets = {Ticket(1), Ticket(2), Ticket(4), Ticket(5)};
  std::vector<ChainRecord> records = SignPayloads(key_.get(), Payloads(tickets));
  ChainVerification result = Verify(records);
  EXPECT_EQ(result.failure, ChainFailure::kSequenceGap);
  EXPECT_EQ(result.index, 2u);
  EXPECT_EQ(result.sequence, 4u);
  EXPECT_NE(result.message.find("expected sequence 3"), std::string::npos) << result.message;
}

TEST_F(FranceChain, SignedDuplicateDetected) {
  std::vector<TicketPayloadFields> tickets = {Ticket(1), Ticket(2), Ticket(2)};
  std::vector<ChainRecord> records = SignPayloads(key_.get(), Payloads(tickets));
  ChainVerification result = Verify(records);
  EXPECT_EQ(result.failure, ChainFailure::kSequenceGap);
  EXPECT_EQ(result.index, 2u);
}

TEST_F(FranceChain, ChainMustStartAtOne) {
  std::vector<TicketPayloadFields> tickets = {Ticket(2)};
  tickets[0].first = true;
  ChainVerification result = Verify(SignPayloads(key_.get(), Payloads(tickets)));
  EXPECT_EQ(result.failure, ChainFailure::kSequenceGap);
  EXPECT_EQ(result.index, 0u);
}

TEST_F(FranceChain, FirstFlagRules) {
  std::vector<TicketPayloadFields> tickets = {Ticket(1), Ticket(2)};
  tickets[0].first = false;
  ChainVerification result = Verify(SignPayloads(key_.get(), Payloads(tickets)));
  EXPECT_EQ(result.failure, ChainFailure::kFirstFlagMismatch);
  EXPECT_EQ(result.index, 0u);

  tickets[0].first = true;
  tickets[1].first = true;
  result = Verify(SignPayloads(key_.get(), Payloads(tickets)));
  EXPECT_EQ(result.failure, ChainFailure::kFirstFlagMismatch);
  EXPECT_EQ(result.index, 1u);
}

TEST_F(FranceChain, RegisterChangeDetected) {
  std::vector<TicketPayloadFields> tickets = {Ticket(1), Ticket(2), Ticket(3)};
  tickets[2].register_id = "CAISSE-02";
  ChainVerification result = Verify(SignPayloads(key_.get(), Payloads(tickets)));
  EXPECT_EQ(result.failure, ChainFailure::kRegisterMismatch);
  EXPECT_EQ(result.index, 2u);
}

TEST_F(FranceChain, WrongKeyFailsAtFirstRecord) {
  EvpPkeyPtr other;
  ASSERT_TRUE(GenerateP256Key(&other).ok());
  ChainVerification result = VerifyChain(records_, other.get(), kTicketFormatV1);
  EXPECT_EQ(result.failure, ChainFailure::kSignatureMismatch);
  EXPECT_EQ(result.index, 0u);
}

TEST_F(FranceChain, MalformedPayloadReported) {
  std::vector<ChainRecord> records = records_;
  records[12].payload += ",extra";
  ChainVerification result = Verify(records);
  EXPECT_EQ(result.failure, ChainFailure::kMalformedPayload);
  EXPECT_EQ(result.index, 12u);
}

TEST_F(FranceChain, SegmentFromAnchor) {
  std::vector<ChainRecord> segment(records_.begin() + 10, records_.end());
  ChainAnchor anchor{records_[9].signature, 10, "CAISSE-01"};
  ChainVerification result = VerifyChain(segment, key_.get(), kTicketFormatV1, &anchor);
  EXPECT_TRUE(result.ok()) << result.message;

  ChainAnchor wrong_signature{records_[8].signature, 10, "CAISSE-01"};
  result = VerifyChain(segment, key_.get(), kTicketFormatV1, &wrong_signature);
  EXPECT_EQ(result.failure, ChainFailure::kSignatureMismatch);
  EXPECT_EQ(result.index, 0u);

  ChainAnchor wrong_sequence{records_[9].signature, 9, "CAISSE-01"};
  result = VerifyChain(segment, key_.get(), kTicketFormatV1, &wrong_sequence);
  EXPECT_EQ(result.failure, ChainFailure::kSequenceGap);

  ChainAnchor wrong_register{records_[9].signature, 10, "CAISSE-02"};
  result = VerifyChain(segment, key_.get(), kTicketFormatV1, &wrong_register);
  EXPECT_EQ(result.failure, ChainFailure::kRegisterMismatch);
}

}  // namespace
}  // namespace fiscal::france
