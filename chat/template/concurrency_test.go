package template

import (
	"sync"
	"testing"
	"time"
)

// One compiled template serves concurrent renders (olm may render while
// a previous answer streams); run with -race to check.
func TestJinjaConcurrentRenders(t *testing.T) {
	j := loadReal(t, "llama2-chat")
	want, _ := readGolden(t, "llama2-chat", "sys")
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := j.Render(conversations["sys"], true)
			if err != nil || p.String() != want {
				errs <- p.String()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent render gave %q", got)
	}
}

func TestStrftime(t *testing.T) {
	at := time.Date(2024, time.July, 5, 15, 4, 9, 0, time.UTC)
	if got := strftime(at, "%d %b %Y, %A %B %H:%M:%S %I%p %j %y %% %q"); got != "05 Jul 2024, Friday July 15:04:09 03PM 187 24 % %q" {
		t.Errorf("strftime = %q", got)
	}
	j, err := NewJinja("date", "{{ strftime_now('%Y') }}", Tokens{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := j.Render(nil, false)
	if err != nil || len(p.String()) != 4 {
		t.Errorf("strftime_now rendered %q, %v", p.String(), err)
	}
}
