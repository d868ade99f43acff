-- wrk script: sends pre-generated signed pushes in order and checks every answer.
--   wrk -t1 ... -s pushes.lua URL -- <pushes file> <check> <first push>
-- The file holds one push a line, "<path and query> <body>". Pushes are sent from <first push> on and never
-- reused: when the file runs out, "exhausted" counts the requests that had to repeat one (the run is then
-- void, as a repeated MsgId would be answered from the retry window). <check> is what a right answer holds:
--   echo      the text reply to the push it answers (ToUserName o_bench_<n>, Content "bench message <n>")
--   sealed    a safe-mode reply (Encrypt and MsgSignature; compare.py decrypts a sample before the run)
--   constant  the bare route's constant reply
-- done() prints one JSON line with the counts and the latency percentiles (microseconds).

local pushes, check, next_push = {}, nil, 1
issued, non200, wrong, exhausted = 0, 0, 0, 0  -- globals: done() reads them per thread

local checks = {
  echo = function(body)
    local to = body:match("<ToUserName><!%[CDATA%[o_bench_(%d+)%]%]></ToUserName>")
    local content = body:match("<Content><!%[CDATA%[bench message (%d+)%]%]></Content>")
    return to ~= nil and to == content
  end,
  sealed = function(body)
    return body:find("<Encrypt>", 1, true) ~= nil and body:find("<MsgSignature>", 1, true) ~= nil
  end,
  constant = function(body)
    return body:find("<Content><![CDATA[constant]]></Content>", 1, true) ~= nil
  end,
}

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do
    local target, body = line:match("^(%S+) (.*)$")
    pushes[#pushes + 1] = wrk.format("POST", target, {["Content-Type"] = "text/xml"}, body)
  end
  check = checks[args[2]]
  next_push = tonumber(args[3]) + 1
end

function request()
  issued = issued + 1
  if next_push > #pushes then
    exhausted = exhausted + 1
    next_push = 1
  end
  local push = pushes[next_push]
  next_push = next_push + 1
  return push
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif not check(body) then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local counts = {issued = 0, non200 = 0, wrong = 0, exhausted = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(counts) do
      counts[name] = counts[name] + thread:get(name)
    end
  end
  local e = summary.errors
  io.write(string.format(
    '{"completed": %d, "duration_us": %d, "socket_errors": %d, "issued": %d, "non200": %d, "wrong": %d, '
      .. '"exhausted": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, counts.issued,
    counts.non200, counts.wrong, counts.exhausted, latency:percentile(50), latency:percentile(99)))
end
