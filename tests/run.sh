#!/usr/bin/env bash
# The README's test command: installs what is missing, configures, builds and
# runs every test through ctest; then runs the integration tests again as an
# unprivileged user (created here) to test what a non-root caller gets.
set -euo pipefail
NSBUILD_TOP=$(cd "$(dirname "$0")/.." && pwd)
export NSBUILD_TOP
source "$NSBUILD_TOP/tests/deps.sh"

BUILD=${NSBUILD_BUILD_DIR:-$NSBUILD_TOP/build}
TEST_USER=${NSBUILD_TEST_USER:-nsbuild-test}

nsbuild_install_deps
nsbuild_build "$BUILD"

echo "== tests as $(id -un)"
(cd "$BUILD" && ctest --output-on-failure -j "$(nproc)" --timeout 600) | tee "$BUILD/ctest-root.log"
root_summary=$(grep -E "tests passed, [0-9]+ tests failed" "$BUILD/ctest-root.log" || true)

if [ "$(id -u)" -eq 0 ]; then
  # An unprivileged caller gets a single-id user namespace; test that too.
  id "$TEST_USER" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$TEST_USER"
  stage=$(mktemp -d /tmp/nsbuild-nonroot.XXXXXX)
  trap 'rm -rf "$stage"' EXIT
  cp "$BUILD/tests/nsbuild_integration_tests" \
    "$BUILD/tests/nsbuild_security_tests" "$BUILD/merge/nsbuild-exec" "$stage/"
  # nsbuild finds its compiler launcher as installed: bin/../libexec/nsbuild.
  mkdir -p "$stage/bin" "$stage/libexec/nsbuild"
  cp "$BUILD/bin/nsbuild" "$stage/bin/"
  cp "$BUILD/launcher/nsbuild-cc" "$stage/libexec/nsbuild/"
  cp -r "$NSBUILD_TOP/policies" "$stage/policies"
  # The checkout may sit where the test user cannot read (under /root).
  mkdir -p "$stage/src" && cp -r "$NSBUILD_TOP/examples" "$stage/src/examples"
  cp "$NSBUILD_TOP/README.md" "$stage/src/"  # its recipe examples are checked
  chmod -R a+rX "$stage"
  echo "== integration tests as $TEST_USER"
  status=0
  for t in nsbuild_integration_tests nsbuild_security_tests; do
    runuser -u "$TEST_USER" -- env -i PATH=/usr/bin:/bin HOME="/tmp" TMPDIR=/tmp \
      NSBUILD_BIN="$stage/bin/nsbuild" NSBUILD_POLICY_PATH="$stage/policies" \
      NSBUILD_SOURCE_DIR="$stage/src" NSBUILD_EXEC_DISPATCHER="$stage/nsbuild-exec" \
      "$stage/$t" --gtest_brief=1 2>&1 | tee -a "$stage/nonroot.log"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  done
  passed=$(grep -oE "\[  PASSED  \] [0-9]+" "$stage/nonroot.log" | awk '{s += $NF} END {print s + 0}' || true)
  failed=$(grep -oE "\[  FAILED  \] [0-9]+ test" "$stage/nonroot.log" | awk '{s += $3} END {print s + 0}' || true)
  echo "non-root: $passed passed, $failed failed"
  [ "$status" -eq 0 ] || exit "$status"
fi
# Sanitizers and fuzzing: one clang build with ASan+UBSan (+ libFuzzer's
# coverage) serves both. NSBUILD_SKIP_SANITIZE=1 skips it for quick local runs.
san_summary=""
if [ -z "${NSBUILD_SKIP_SANITIZE:-}" ] && command -v clang++ >/dev/null; then
  SAN=${NSBUILD_SAN_BUILD_DIR:-$NSBUILD_TOP/build-san}
  echo "== ASan+UBSan build and tests ($SAN)"
  CC=clang CXX=clang++ nsbuild_build "$SAN" -DNSBUILD_FUZZ=ON >/dev/null
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  "$SAN/tests/nsbuild_unit_tests" --gtest_brief=1 2>&1 | tail -n 3
  # Integration tests start sandboxes from a sanitized nsbuild; leak checking
  # is off there because the sandbox's PID 1 shares the parent's memory.
  ASAN_OPTIONS=detect_leaks=0 NSBUILD_BIN="$SAN/bin/nsbuild" \
    "$SAN/tests/nsbuild_integration_tests" --gtest_brief=1 2>&1 | grep -v "asan_handle_no_return\|False positive\|sanitizers/issues/189" | tail -n 3
  ASAN_OPTIONS=detect_leaks=0 NSBUILD_BIN="$SAN/bin/nsbuild" \
    "$SAN/tests/nsbuild_security_tests" --gtest_brief=1 2>&1 | grep -v "asan_handle_no_return\|False positive\|sanitizers/issues/189" | tail -n 3
  seconds=${NSBUILD_FUZZ_SECONDS:-20}
  for t in policy recipe image; do
    corpus=$(mktemp -d /tmp/nsbuild-fuzz-$t.XXXXXX)
    cp "$NSBUILD_TOP/tests/fuzz/corpus/$t/"* "$corpus/"
    echo "== fuzz_$t for ${seconds}s"
    (cd "$corpus" && "$SAN/tests/fuzz_$t" -max_total_time="$seconds" -timeout=10 "$corpus" 2>&1 | tail -n 2)
    rm -rf "$corpus"
  done
  san_summary="sanitized unit, integration and security tests and ${seconds}s per fuzz target passed"
  # ThreadSanitizer on nsbuild's threads, the merger's hashing workers and the
  # distcc relay (the scheduler and the write watcher are poll loops): a small
  # build of their libraries and tests only. setarch -R (no ASLR): older
  # TSan runtimes abort with "unexpected memory mapping" on kernels whose
  # vm.mmap_rnd_bits is raised above 28.
  TSAN=${NSBUILD_TSAN_BUILD_DIR:-$NSBUILD_TOP/build-tsan}
  echo "== TSan build and merge tests ($TSAN)"
  CC=clang CXX=clang++ NSBUILD_TARGET=nsbuild_tsan_tests nsbuild_build "$TSAN" -DNSBUILD_TSAN=ON >/dev/null
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" setarch "$(uname -m)" -R \
    "$TSAN/tests/nsbuild_tsan_tests" --gtest_brief=1 2>&1 | tail -n 3
  [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
  san_summary="$san_summary; TSan merge tests passed"
fi
echo "root: $root_summary"
[ -n "$san_summary" ] && echo "sanitizers: $san_summary"
root_passed=$(echo "$root_summary" | grep -oE "out of [0-9]+" | grep -oE "[0-9]+")
echo "tests: $((root_passed + ${passed:-0})) passed, 0 failed"
