-- wrk script for bench/engine: once the run is over, print one line that
-- the table script reads. Only done() is defined, so wrk keeps its fast
-- path (the request, with any -H headers, is built once).
-- Times are in microseconds; errors are wrk's counts.

done = function(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	local rps = 0
	if secs > 0 then
		rps = summary.requests / secs
	end
	io.write(string.format(
		"nmp-result requests=%d duration_us=%d rps=%.1f " ..
		"p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
		"connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.duration, rps,
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency.max,
		e.connect, e.read, e.write, e.status, e.timeout))
end
