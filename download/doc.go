// Package download fetches files from a Hugging Face compatible hub:
// resumable, multi-connection, sha256-verified while streaming.
//
//	c := download.NewFromEnv()                  // HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE
//	r, err := c.Resolve(ctx, "owner/repo", "main", "model-Q4_K_M.gguf")
//	files, err := c.List(ctx, "owner/repo", "main") // unsafe names flagged (RemoteFile.Unsafe)
//	err = c.Fetch(ctx, r, "/cache/models--owner--repo/blobs/"+r.SHA256,
//		download.FetchOptions{Progress: download.NewRenderer(os.Stderr, download.RenderAuto).Update})
//
// Resolve does a HEAD on {endpoint}/{repo}/resolve/{rev}/{file} without
// following the CDN redirect and reads X-Linked-Size, X-Linked-Etag (the
// LFS sha256) and X-Repo-Commit; the returned Remote's URL is pinned to
// that commit. Small non-LFS files have a git sha1 ETag: Remote.SHA256 is
// then "" and Fetch checks the size only.
//
// Fetch writes dst+".partial" (sparse, final size) and records per-chunk
// progress in dst+".partial.json", so any later Fetch of the same content,
// after Ctrl-C, kill -9, a dropped link or a reboot, requests only the
// missing ranges. A file is split into ranges sized from its length (1 to
// 32 MiB; at most 4096 of them, so larger above 128 GiB) fetched over up
// to Client.Connections (default 8) connections, so every file over 1 MiB
// is downloaded in parallel; a Budget shared by several Fetches
// (models.Pull passes one for the parts of a split model) caps the
// requests in flight across them. Connections read into a fixed ring of
// 2 x connections + 2 buffers of 1 MiB per Fetch (memory does not grow
// with the file) and write each buffer once; one goroutine hashes
// the contiguous prefix from those same buffers while the next ones
// download, reading back from disk only bytes other connections wrote
// ahead of the prefix, or bytes kept from an interrupted attempt: no hash
// state is saved, so what is verified is always what the file holds.
// Progress is persisted every 2 s or 256 MiB, data fsynced before the
// state that claims it, and the kernel is asked to write back as bytes
// arrive, so the final fsync is short. On success the file is fsynced and
// renamed to dst; on a sha256 mismatch the partial data is deleted and the
// error (ErrChecksum) names the file, expected and actual hash. dst never
// holds unverified data, so an existing dst of the right size is returned
// as complete (FetchResult then counts nothing downloaded).
//
// Concurrency and failure rules:
//   - dst+".lock" (flock) serialises fetches of one dst across processes;
//     FetchOptions.NoWait returns ErrLocked with the holder's pid instead.
//   - Disk space is checked before anything is allocated or requested
//     (ErrNoSpace), so an absurd size from the hub is refused up front.
//     Client.CheckSpace is that check, for a caller fetching several files
//     at once to check their sum first (sparse partials pass one by one).
//   - 5xx, 429 (Retry-After honoured), resets, short bodies and stalls
//     (Client.StallTimeout without a byte) are retried with exponential
//     backoff and jitter; the budget (Client.MaxRetries) restarts whenever a
//     retry made progress. A wait of 2 s or more is announced as a
//     PhaseWaiting event (how long, why). 401/403 is ErrUnauthorized,
//     404 ErrNotFound.
//   - A 206 must carry exactly the range and file length asked for.
//   - A server that ignores Range is handled with one stream from byte 0.
//   - Cancelling ctx stops at once, keeps the partial files and returns an
//     error wrapping context.Canceled.
//   - The token is sent to the endpoint host only, never to a CDN.
//   - List follows the hub's pages (Link: rel="next") only on the
//     endpoint's host, never to a page already listed, and for at most
//     1000 pages, 100,000 entries and 256 MiB: a hub paging without end
//     gets an error, not all the memory.
//   - Offline (HF_HUB_OFFLINE=1) makes every network call return ErrOffline.
//
// Package hftest provides a fake hub (API + CDN with fault injection) for
// tests of this and other packages.
package download
