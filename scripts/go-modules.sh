# Sourced by the provisioning scripts after scripts/lib.sh: `go install` of a module at a version,
# exactly. Go already builds MODULE@VERSION from that module's go.mod and go.sum; what is added
# here is the module's own hash checked against scripts/go-modules.sum (so a changed download is
# refused whatever the checksum-database settings), and -mod=readonly (so nothing missing from
# go.sum is resolved against the proxy at install time).

go_modules_sum="$root/scripts/go-modules.sum"

# go_install_exact MODULE VERSION PACKAGE… (GOBIN and other go variables from the caller's env)
go_install_exact() {
  local module="$1" version="$2" want got
  shift 2
  want="$(awk -v m="$module" -v v="$version" '$1 == m && $2 == v { print $3 }' "$go_modules_sum")"
  [[ -n "$want" ]] || die "$module $version has no line in scripts/go-modules.sum." \
    "Add it: go mod download -json $module@$version prints its Sum (check it against the checksum database)."
  got="$(GOFLAGS=-mod=readonly go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p')" ||
    die "go mod download $module@$version failed." "Check the Go module proxy is reachable (go env GOPROXY)."
  [[ "$got" == "$want" ]] || die "$module@$version downloaded with hash '$got'; scripts/go-modules.sum pins $want." \
    "Something between here and the module proxy changed the module: do not build it."
  GOFLAGS=-mod=readonly go install "$@"
}
