// The progress bar's ETA: work a resume or a journal answered costs nothing and must not speed it up.
#include "util/progress.h"

#include <gtest/gtest.h>

namespace longrope {
namespace {

TEST(Progress, EtaFromTheWorkDoneHere) {
  // 10 of 100 units in 20 s: 2 s a unit, 90 to go.
  EXPECT_DOUBLE_EQ(eta_seconds(20.0, 10, 100, 0), 180.0);
}

TEST(Progress, ResumedUnitsDoNotCountAsSpeed) {
  // A resume after 44 of 96, then 2 units in 660 s (a search at 5.5 min a candidate): 50 to go, 5.5 min
  // each, not the 12 minutes that 46 units in 660 s would say.
  EXPECT_DOUBLE_EQ(eta_seconds(660.0, 46, 96, 44), 50 * 330.0);
  // Journal answers inside a generation count as free too.
  EXPECT_DOUBLE_EQ(eta_seconds(660.0, 58, 96, 56), 38 * 330.0);
}

TEST(Progress, UnknownUntilSomethingWasMeasured) {
  EXPECT_LT(eta_seconds(5.0, 0, 10, 0), 0);
  EXPECT_LT(eta_seconds(5.0, 44, 96, 44), 0);
  EXPECT_LT(eta_seconds(5.0, 40, 96, 44), 0);  // answers still arriving
  EXPECT_DOUBLE_EQ(eta_seconds(5.0, 100, 100, 3), 0.0);
}

}  // namespace
}  // namespace longrope
