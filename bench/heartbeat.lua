-- wrk script for bench/heartbeat.py: POST /api/progress/time as many anonymous learners.
--
-- Usage: wrk ... -s bench/heartbeat.lua <url> -- <placements file> <learners>
--   placements file: one "lens_id lo_id module_id" per line (lenses with their LO and module)
--   learners: size of the token pool; learner n sends the token 00000000-0000-4000-8000-<n as 12 hex digits>
--
-- Every request picks a learner and a placement at random. Responses other than 204 are
-- counted per status, and done() prints one machine-readable line:
--   WRK_RESULT key=value key=value ...
-- followed, when something went wrong, by WRK_SAMPLE <status> <start of the body>.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

-- Per-thread state (each wrk thread runs its own copy of this script).
placements = {}
learners = 0
non_204 = 0
statuses = ""
sample = ""
local counts = {}
local headers = { ["Content-Type"] = "application/json" }
-- As the page sends it: with a chunk id, unique per request (thread number, then a counter).
local BODY = '{"content_id":"%s","lo_id":"%s","module_id":"%s","time_delta_s":%d,"chunk_id":%d}'
local TOKEN = "00000000-0000-4000-8000-%012x"

function init(args)
   for line in io.lines(args[1]) do
      local lens, lo, module = line:match("(%S+)%s+(%S+)%s+(%S+)")
      if lens then
         placements[#placements + 1] = { lens, lo, module }
      end
   end
   learners = tonumber(args[2])
   math.randomseed(os.time() * 97 + (thread_number or 0) * 7919)
end

local sent = 0

function request()
   local p = placements[math.random(#placements)]
   headers["X-Anonymous-Token"] = string.format(TOKEN, math.random(learners) - 1)
   sent = sent + 1
   local chunk_id = (thread_number or 1) * 1000000000 + sent
   local body = string.format(BODY, p[1], p[2], p[3], math.random(5, 60), chunk_id)
   return wrk.format("POST", nil, headers, body)
end

function response(status, _, body)
   if status ~= 204 then
      non_204 = non_204 + 1
      counts[status] = (counts[status] or 0) + 1
      local parts = {}
      for code, n in pairs(counts) do
         parts[#parts + 1] = code .. ":" .. n
      end
      statuses = table.concat(parts, ",")
      if sample == "" then
         sample = status .. " " .. string.gsub(string.sub(body or "", 1, 300), "%s+", " ")
      end
   end
end

function done(summary, latency, _)
   local non, all_statuses, first_sample = 0, {}, ""
   for _, thread in ipairs(threads) do
      non = non + thread:get("non_204")
      local s = thread:get("statuses")
      if s ~= "" then
         all_statuses[#all_statuses + 1] = s
      end
      if first_sample == "" then
         first_sample = thread:get("sample")
      end
   end
   local e = summary.errors
   io.write(string.format(
      "WRK_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f"
         .. " non_204=%d statuses=%s connect_errors=%d read_errors=%d write_errors=%d"
         .. " status_errors=%d timeouts=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      non, (#all_statuses > 0) and table.concat(all_statuses, ",") or "-",
      e.connect, e.read, e.write, e.status, e.timeout))
   if first_sample ~= "" then
      io.write("WRK_SAMPLE " .. first_sample .. "\n")
   end
end
