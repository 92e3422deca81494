// compose-check loads a Compose file with compose-go, the loader Docker Compose itself uses, and
// prints the resolved project as JSON; an invalid file exits 1 with the loader's message. No
// Docker engine runs in CI, so this is how docker-compose.yml is validated there
// (test/stacks/compose.test.ts checks what the project must contain).
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check path/to/docker-compose.yml")
		os.Exit(2)
	}
	file, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	opts, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithName("ct-coordinator"),
		cli.WithOsEnv,
		cli.WithDotEnv,
		// COMPOSE_PROFILES, as `docker compose` reads it: services of other profiles are left out.
		cli.WithDefaultProfiles(),
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-check: %v\n", err)
	os.Exit(1)
}
