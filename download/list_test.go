package download

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/olm-dev/olm/download/hftest"
)

// The hub pages long listings with Link: <next>; rel="next".
func TestListFollowsLinkPages(t *testing.T) {
	e := newEnv(t)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("m-%05d-of-00005.gguf", i+1)
		e.hub.Add(testRepo, name, randomBytes(100+i))
		want = append(want, name)
	}
	e.hub.SetTreePageSize(2)
	files, err := e.c.List(context.Background(), testRepo, "main")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want all of %v once", got, want)
	}
	var tree int
	for _, r := range e.hub.Requests(hftest.API) {
		if r.Path == "/api/models/"+testRepo+"/tree/main" {
			tree++
		}
	}
	if tree != 3 {
		t.Errorf("%d tree requests, want 3 pages", tree)
	}
}
