package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// median returns the median of ds (the mean of the middle two for an even
// count); zero for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// perOp times op: each of b.runs runs calls it until at least b.minTime has
// passed (at least once) and takes the mean time per call; the result is the
// median over the runs. One untimed call first warms caches and finds errors.
func (b *bench) perOp(op func() error) (time.Duration, error) {
	if err := op(); err != nil {
		return 0, err
	}
	ds := make([]time.Duration, 0, b.runs)
	for range b.runs {
		n := 0
		start := time.Now()
		var el time.Duration
		for {
			if err := op(); err != nil {
				return 0, err
			}
			n++
			if el = time.Since(start); el >= b.minTime {
				break
			}
		}
		ds = append(ds, el/time.Duration(n))
	}
	return median(ds), nil
}

// eachRun times op once per run, calling setup (untimed) before each: for work
// that changes state, such as an import into a fresh cache. It returns the
// median time.
func (b *bench) eachRun(setup, op func() error) (time.Duration, error) {
	ds := make([]time.Duration, 0, b.runs)
	for range b.runs {
		if setup != nil {
			if err := setup(); err != nil {
				return 0, err
			}
		}
		start := time.Now()
		if err := op(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return median(ds), nil
}

// errNoTool reports that a peer's command is not installed.
var errNoTool = errors.New("not installed")

// command is a peer's command line.
type command struct {
	name string
	args []string
}

func (c command) String() string { return c.name + " " + strings.Join(c.args, " ") }

// runOnce runs c with its output discarded and returns how long it took. A
// non-zero exit is an error carrying the end of its error output.
func (c command) runOnce() (time.Duration, error) {
	cmd := exec.Command(c.name, c.args...)
	var stderr bytes.Buffer
	cmd.Stdout = nil // /dev/null
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	el := time.Since(start)
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		return 0, fmt.Errorf("%s: %w: %s", c.name, err, msg)
	}
	return el, nil
}

// timeCommands runs the commands one after another, b.runs times (after one
// untimed warm-up pass), and returns each command's median time.
func (b *bench) timeCommands(cmds []command) ([]time.Duration, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	if _, err := exec.LookPath(cmds[0].name); err != nil {
		return nil, fmt.Errorf("%s %w", cmds[0].name, errNoTool)
	}
	for _, c := range cmds {
		if _, err := c.runOnce(); err != nil {
			return nil, err
		}
	}
	times := make([][]time.Duration, len(cmds))
	for range b.runs {
		for i, c := range cmds {
			d, err := c.runOnce()
			if err != nil {
				return nil, err
			}
			times[i] = append(times[i], d)
		}
	}
	out := make([]time.Duration, len(cmds))
	for i := range times {
		out[i] = median(times[i])
	}
	return out, nil
}

// timeCommand is timeCommands for one command.
func (b *bench) timeCommand(c command) (time.Duration, error) {
	ds, err := b.timeCommands([]command{c})
	if err != nil {
		return 0, err
	}
	return ds[0], nil
}

// fileSize returns the size of path, 0 when it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// corrected is the start-up-corrected cell for a peer that took total for
// count units, startup of which was its process start-up, and the corrected
// rate (0 when none is printed). Where start-up is over 90% of the time the
// difference is within its noise, and the cell says so instead.
func corrected(count float64, total, startup time.Duration, err error, unit string) (string, float64) {
	if err != nil {
		return na(err), 0
	}
	if total <= 0 {
		return "n/a", 0
	}
	rest := total - startup
	if rest*10 < total {
		return fmt.Sprintf("n/a* (start-up is %.0f%%)", 100*min(1, startup.Seconds()/total.Seconds())), 0
	}
	return rate(count, rest, unit), count / rest.Seconds()
}

// startupNote explains the n/a* cells.
const startupNote = "  * over 90% of the peer's time there is process start-up: a corrected figure would be noise."

// timedOp is one measure of an interleaved comparison: setup runs untimed
// before each timed op.
type timedOp struct {
	setup, op func() error
}

// interleaved times several ops in rounds (one untimed warm-up round first),
// each round running every op once in turn, and returns each op's median and
// first error (an op that failed is not run again). Interleaving puts Teleread
// and its peer in the same moments of a noisy machine, which timing one
// block of runs after the other does not.
func interleaved(runs int, ops []timedOp) ([]time.Duration, []error) {
	times := make([][]time.Duration, len(ops))
	errs := make([]error, len(ops))
	for round := -1; round < runs; round++ {
		for i, o := range ops {
			if errs[i] != nil {
				continue
			}
			if o.setup != nil {
				if errs[i] = o.setup(); errs[i] != nil {
					continue
				}
			}
			start := time.Now()
			if errs[i] = o.op(); errs[i] != nil {
				continue
			}
			if round >= 0 {
				times[i] = append(times[i], time.Since(start))
			}
		}
	}
	out := make([]time.Duration, len(ops))
	for i := range times {
		if errs[i] == nil {
			out[i] = median(times[i])
		}
	}
	return out, errs
}
