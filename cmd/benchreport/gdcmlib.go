package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// gdcmSource is a small C++ program that decodes each file named on its
// command line with the GDCM library in one process (gdcm::ImageReader, then
// Image::GetBuffer, which decodes every frame), so GDCM's decode speed can be
// compared without a process start-up per file. For each file it repeats
// read+decode for at least MINTIME seconds per run, RUNS times, and prints
// "seconds-per-decode<TAB>path" with the median; a file it cannot decode gets
// "error<TAB>path".
const gdcmSource = `
#include <gdcmImageReader.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

static bool decode(const char *path, std::vector<char> &buf) {
  gdcm::ImageReader r;
  r.SetFileName(path);
  if (!r.Read()) return false;
  const gdcm::Image &im = r.GetImage();
  buf.resize(im.GetBufferLength());
  return im.GetBuffer(buf.data());
}

int main(int argc, char **argv) {
  if (argc < 4) { std::fprintf(stderr, "usage: RUNS MINTIME FILE...\n"); return 2; }
  int runs = std::atoi(argv[1]);
  double mintime = std::atof(argv[2]);
  std::vector<char> buf;
  for (int i = 3; i < argc; i++) {
    if (!decode(argv[i], buf)) { std::printf("error\t%s\n", argv[i]); continue; }
    std::vector<double> per;
    for (int r = 0; r < runs; r++) {
      int n = 0;
      auto start = std::chrono::steady_clock::now();
      double el = 0;
      do {
        decode(argv[i], buf);
        n++;
        el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } while (el < mintime);
      per.push_back(el / n);
    }
    std::sort(per.begin(), per.end());
    double med = per.size() % 2 ? per[per.size() / 2] : (per[per.size() / 2 - 1] + per[per.size() / 2]) / 2;
    std::printf("%.9f\t%s\n", med, argv[i]);
  }
  return 0;
}
`

// gdcmIncludes are where Debian's libgdcm-dev puts GDCM's headers.
var gdcmIncludes = []string{"/usr/include/gdcm-3.0", "/usr/local/include/gdcm-3.0"}

// buildGDCMDecoder compiles gdcmSource with g++ against libgdcm-dev into dir
// and returns the program's path.
func buildGDCMDecoder(dir string) (string, error) {
	if _, err := exec.LookPath("g++"); err != nil {
		return "", fmt.Errorf("g++ %w", errNoTool)
	}
	inc := ""
	for _, d := range gdcmIncludes {
		if _, err := os.Stat(filepath.Join(d, "gdcmImageReader.h")); err == nil {
			inc = d
			break
		}
	}
	if inc == "" {
		return "", fmt.Errorf("GDCM headers %w (Debian libgdcm-dev)", errNoTool)
	}
	src := filepath.Join(dir, "gdcm_decode.cpp")
	bin := filepath.Join(dir, "gdcm_decode")
	if err := os.WriteFile(src, []byte(gdcmSource), 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command("g++", "-O2", "-o", bin, src, "-I"+inc,
		"-lgdcmMSFF", "-lgdcmDSED", "-lgdcmCommon", "-lgdcmDICT", "-lgdcmIOD")
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return "", fmt.Errorf("building the GDCM harness: %w: %s", err, msg)
	}
	return bin, nil
}

// gdcmDecodeTimes runs the harness over paths and returns each file's median
// read+decode time; files GDCM cannot decode are absent.
func (b *bench) gdcmDecodeTimes(bin string, paths []string, minTime time.Duration) (map[string]time.Duration, error) {
	args := append([]string{strconv.Itoa(b.runs), strconv.FormatFloat(minTime.Seconds(), 'f', 6, 64)}, paths...)
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("GDCM harness: %w: %.300s", err, stderr.String())
	}
	times := map[string]time.Duration{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		v, p, ok := strings.Cut(sc.Text(), "\t")
		if !ok || v == "error" {
			continue
		}
		s, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		times[p] = time.Duration(s * float64(time.Second))
	}
	return times, nil
}

// gdcmVersion is the installed GDCM library's version, from gdcmconv.
func gdcmVersion() string {
	v := toolVersion("gdcmconv", "--version")
	v = strings.TrimSpace(strings.TrimPrefix(strings.ReplaceAll(v, "$Date$", ""), "gdcmconv:"))
	if v == "" {
		return "GDCM"
	}
	return v
}
