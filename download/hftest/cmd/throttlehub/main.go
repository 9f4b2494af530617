// Command throttlehub serves the fake hub on loopback with a CDN that caps
// each connection's rate, for comparing olm pull with curl and aria2c by
// hand (README, section Pulls). It prints, per file, its size, sha256 and
// resolve URL, then serves until interrupted.
//
//	go run ./download/hftest/cmd/throttlehub -rate 25000000 -mib 64,256,1024
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/olm-dev/olm/download/hftest"
)

const repo = "olm-dev/bench-GGUF"

func main() {
	rate := flag.Int64("rate", 25_000_000, "CDN bytes per second per connection (0: unlimited)")
	mib := flag.String("mib", "64,256,1024", "file sizes in MiB, comma-separated")
	flag.Parse()

	hub := hftest.Start()
	defer hub.Close()
	hub.SetRate(*rate)
	fmt.Printf("HF_ENDPOINT=%s\n", hub.URL())
	for _, s := range strings.Split(*mib, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(os.Stderr, "throttlehub: bad size %q in -mib: want MiB counts like 64,256\n", s)
			os.Exit(2)
		}
		name := fmt.Sprintf("bench-%dM.gguf", n)
		f := hub.Add(repo, name, random(n<<20, uint64(n)))
		fmt.Printf("%s size=%d sha256=%x url=%s/%s/resolve/main/%s\n", name, len(f.Data), sha256.Sum256(f.Data), hub.URL(), repo, name)
	}
	fmt.Println("serving; Ctrl-C to stop")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
}

// random is incompressible data, so no layer can shortcut it.
func random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	return b
}
