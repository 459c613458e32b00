#!/usr/bin/env bash
# The house format (.clang-format at the top) holds for every C++ file of
# the project: clang-format --dry-run -Werror on each, naming the files that
# differ and how to fix them. Run by ctest (style.ClangFormat).
# Usage: check_format.sh SOURCE_DIR
set -euo pipefail
top=$1
cd "$top"
command -v clang-format >/dev/null || { echo "clang-format is not installed (apt-get install clang-format)"; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.cc' '*.h')
else
  mapfile -t files < <(find . -path ./build -prune -o -path './build-*' -prune -o \( -name '*.cc' -o -name '*.h' \) -print)
fi
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -ne 0 ]; then
  echo "not in the house format (${#bad[@]} of ${#files[@]} files): ${bad[*]}"
  echo "fix: clang-format -i ${bad[*]}"
  exit 1
fi
echo "all ${#files[@]} C++ files are in the house format ($(clang-format --version))"
