// main() for every GoogleTest binary: registers the leak check, which fails the
// run if any test left a shared memory object behind.
#include <gtest/gtest.h>

#include "test_util.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new testutil::LeakCheck);
  return RUN_ALL_TESTS();
}
