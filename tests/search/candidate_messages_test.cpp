// The messages of a distributed search carry every double exactly (a rank's scores must be the bits
// rank 0 would have computed) and the non-finite scores JSON lacks.
#include "search/candidate_messages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace longrope {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(CandidateMessages, WorkOrderRoundTripsExactly) {
  WorkOrder order;
  order.target = 3;
  order.group = {{{0, 1, 5, 5, 900}, 16}, {{0, 0, 2, 3, 4}, 0, 1, 3}};  // the second of the piecewise space
  order.cutoff.score = 4.123456789012345678;
  order.cutoff.document_nll = {0.1 + 0.2, 1.0 / 3.0, std::nextafter(2.0, 3.0)};
  const WorkOrder back = read_work_message(work_message(order));
  EXPECT_EQ(back.target, 3u);
  ASSERT_EQ(back.group.size(), 2u);
  EXPECT_TRUE(back.group[0] == order.group[0]);
  EXPECT_TRUE(back.group[1] == order.group[1]);
  EXPECT_TRUE(same_bits(back.cutoff.score, order.cutoff.score));
  ASSERT_EQ(back.cutoff.document_nll.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(back.cutoff.document_nll[i], order.cutoff.document_nll[i]));
}

TEST(CandidateMessages, UnboundedCutoffAndNonFiniteScoresSurvive) {
  WorkOrder order;  // the initial population's cutoff is +infinity
  EXPECT_TRUE(std::isinf(read_work_message(work_message(order)).cutoff.score));

  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const std::vector<Evaluation> sent = {{inf, 5, false, {1.5, inf}}, {nan, 2, true, {nan}}, {12.75, 3, false, {2.5, 2.25, 2.0}}};
  const WorkResult back = read_result_message(result_message({sent, 0.25}));
  EXPECT_EQ(back.seconds, 0.25);
  const std::vector<Evaluation>& got = back.evaluations;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(std::isinf(got[0].score) && got[0].score > 0);
  EXPECT_TRUE(std::isinf(got[0].document_nll[1]));
  EXPECT_TRUE(std::isnan(got[1].score));
  EXPECT_TRUE(got[1].raced_out);
  EXPECT_EQ(got[1].forwards, 2);
  EXPECT_TRUE(same_bits(got[2].score, 12.75));
  EXPECT_EQ(got[2].document_nll, sent[2].document_nll);
}

TEST(CandidateMessages, MalformedMessageIsRefused) {
  EXPECT_THROW(read_work_message("{\"target\": 1}"), std::runtime_error);
  EXPECT_THROW(read_result_message("{\"evaluations\": [{\"score\": \"big\", \"forwards\": 1, \"raced_out\": false, "
                                   "\"document_nll\": []}], \"seconds\": 0}"),
               std::runtime_error);
  EXPECT_THROW(read_result_message("not json"), std::runtime_error);
}

}  // namespace
}  // namespace longrope
