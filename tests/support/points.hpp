/// @file
/// @brief Graded tests: each test's points, declared with the test, known without running it.
///
/// A graded test is declared with its points in place of TEST_F or TEST; an ungraded test
/// (a check of given code, or one the skeleton passes) is a plain TEST_F or TEST:
///
/// @code
/// GRADED_TEST_F(Lab01Namespaces, CommandIsPid1, 10) {   // 10 points, fixture Lab01Namespaces
///     ...
/// }
/// GRADED_TEST(Lab02RootfsPlan, PlanMountsProcDevSysInsideTheNewRoot, 4) {  // no fixture
///     ...
/// }
/// @endcode
///
/// The points go into one table while the program starts (static initialisation), so:
/// - `labNN_test --list-points` prints `Suite.Name N` for each graded test and `total N`,
///   without running a test and without root; tools/test checks that every lab totals
///   exactly 100 (kLabPoints) this way;
/// - while the suite runs, each graded test records its points as the test property
///   "points" in GoogleTest's JSON report, which tools/grade reads (a test skipped or
///   failed in its fixture's SetUp records them too).
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace mydocker::test {

/// What every lab's graded tests add up to.
inline constexpr int kLabPoints = 100;

/// The flag of every labNN_test that prints the table of points instead of running tests.
inline constexpr const char* kListPointsFlag = "--list-points";

/// One graded test, as GRADED_TEST_F or GRADED_TEST declared it.
struct GradedTest {
    std::string name;  ///< "Suite.Name", as GoogleTest names the test
    int points = 0;    ///< its weight
};

/// Every graded test of this executable, in the order of declaration.
const std::vector<GradedTest>& gradedTests();

/// Adds a graded test to the table (what the macros expand to; returns `points`).
int declarePoints(const char* suite, const char* name, int points);

/// The points of the test "Suite.Name", or 0 if it is not graded.
int pointsOf(const std::string& name);

/// Prints the table: one `Suite.Name N` line per graded test, then `total N`.
void listPoints(std::ostream& out);

/// Makes each graded test record its points (the "points" property) as it starts: a
/// GoogleTest event listener, installed once by main() after InitGoogleTest().
void recordPointsOfEachTest();

}  // namespace mydocker::test

/// A graded test of fixture `Suite` worth `Points` (TEST_F otherwise).
#define GRADED_TEST_F(Suite, Name, Points)                                    \
    static_assert((Points) > 0, "a graded test is worth at least one point"); \
    [[maybe_unused]] static const int mydocker_points_##Suite##_##Name =      \
        ::mydocker::test::declarePoints(#Suite, #Name, (Points));             \
    TEST_F(Suite, Name)

/// A graded test without a fixture, worth `Points` (TEST otherwise).
#define GRADED_TEST(Suite, Name, Points)                                      \
    static_assert((Points) > 0, "a graded test is worth at least one point"); \
    [[maybe_unused]] static const int mydocker_points_##Suite##_##Name =      \
        ::mydocker::test::declarePoints(#Suite, #Name, (Points));             \
    TEST(Suite, Name)
