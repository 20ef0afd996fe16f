package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// printMachine writes what the figures were measured on: CPU model, cores,
// memory, kernel and Go version. The GL renderer is printed by the sections
// that use one.
func printMachine(w io.Writer) {
	model := cpuModel()
	mem := "unknown"
	if kb := memTotalKB(); kb > 0 {
		mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	kernel := strings.TrimSpace(readSmall("/proc/sys/kernel/osrelease"))
	if kernel == "" {
		kernel = "unknown"
	}
	fmt.Fprintf(w, "Machine: %s, %d cores (GOMAXPROCS %d), %s memory, %s/%s kernel %s, %s\n",
		model, runtime.NumCPU(), runtime.GOMAXPROCS(0), mem, runtime.GOOS, runtime.GOARCH, kernel, runtime.Version())
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotalKB() int64 {
	for _, line := range strings.Split(readSmall("/proc/meminfo"), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return kb
		}
	}
	return 0
}

func readSmall(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// toolVersion returns the first non-empty line a tool prints for its version
// flag, or "" when it cannot be run.
func toolVersion(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "$") {
			return line
		}
	}
	return ""
}

// defaultCorpus is testdata/corpus in the module root: the module root is
// found from the working directory (go run in the repository), else from where
// this source file was compiled.
func defaultCorpus() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		if root := moduleRoot(dir); root != "" {
			return filepath.Join(root, "testdata", "corpus")
		}
	}
	return filepath.Join("testdata", "corpus")
}

// moduleRoot returns the nearest folder at or above dir whose go.mod declares
// module teleread, or "".
func moduleRoot(dir string) string {
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == "teleread" {
					return dir
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
