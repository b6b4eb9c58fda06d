#!/usr/bin/env bash
# Lint for Origo's C sources (STYLE.md, "Format"): every *.c and *.h file
# under sdk ledger consensus node tools tests must match .clang-format, and no
# file may call the banned functions of STYLE.md. Registered as the meson test
# `lint`; usage: lint.sh SOURCE_ROOT. Exit 0 clean, 1 problems found, 77
# (meson's "skipped") only when clang-format is not installed.
set -u

root=${1:-.}
cd "$root" || {
    echo "lint: cannot enter source root '$root'" >&2
    exit 1
}

clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
    echo "lint: $clang_format not found; skipping (install clang-format)"
    exit 77
fi
if ! command -v perl >/dev/null 2>&1; then
    echo "lint: perl not found (needed for the banned-function scan)" >&2
    exit 1
fi

dirs=(sdk ledger consensus node tools tests)

# Tracked files in a git checkout; every file in a tarball or export.
list_files() {
    local top=
    if command -v git >/dev/null 2>&1; then
        top=$(git rev-parse --show-toplevel 2>/dev/null) || top=
    fi
    if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(pwd -P)" ]; then
        git ls-files -z -- "${dirs[@]}" | tr '\0' '\n' |
            grep -E '\.[ch]$' || true
    else
        local existing=()
        local d
        for d in "${dirs[@]}"; do
            [ -d "$d" ] && existing+=("$d")
        done
        [ ${#existing[@]} -eq 0 ] && return 0
        find "${existing[@]}" -type f \( -name '*.c' -o -name '*.h' \) |
            LC_ALL=C sort
    fi
}

mapfile -t files < <(list_files)
if [ ${#files[@]} -eq 0 ]; then
    echo "lint: no C files found under ${dirs[*]} in $PWD" >&2
    exit 1
fi

status=0
misformatted=0
for f in "${files[@]}"; do
    # A tracked file deleted in the work tree is not ours to judge.
    [ -f "$f" ] || continue
    if ! "$clang_format" --dry-run --Werror "$f" >/dev/null 2>&1; then
        first=$("$clang_format" --dry-run "$f" 2>&1 | grep -m1 -E ':[0-9]+:[0-9]+:')
        echo "lint: misformatted: $f (${first:-see clang-format --dry-run})"
        echo "      fix with: clang-format -i $f"
        misformatted=$((misformatted + 1))
        status=1
    fi
done

# Banned calls: comments and string/char literals are blanked first (keeping
# line breaks), so prose that names a function is not a call.
banned=$(perl -e '
    my $bad = qr/\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|atoll|gets)\s*\(/;
    my $found = 0;
    for my $file (@ARGV) {
        open(my $fh, "<", $file) or next;
        local $/;
        my $src = <$fh>;
        close($fh);
        $src =~ s{
            (/\*.*?\*/) | (//[^\n]*) | ("(?:\\.|[^"\\\n])*") | (\x27(?:\\.|[^\x27\\\n])*\x27)
        }{
            my $m = $&;
            $m =~ s/[^\n]/ /g;
            $m
        }gsex;
        my $line = 0;
        for my $text (split /\n/, $src, -1) {
            $line++;
            while ($text =~ /$bad/g) {
                print "$file:$line: banned function $1() (see STYLE.md)\n";
                $found++;
            }
        }
    }
    exit($found ? 1 : 0);
' "${files[@]}")
banned_rc=$?
if [ -n "$banned" ]; then
    echo "$banned" | sed 's/^/lint: /'
fi
if [ $banned_rc -ne 0 ]; then
    status=1
fi

count=$(echo "$banned" | grep -c . || true)
echo "lint: ${#files[@]} files checked, $misformatted misformatted," \
    "$count banned calls"
exit $status
