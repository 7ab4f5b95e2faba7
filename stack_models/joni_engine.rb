# Logstash's own engines for the tests: Joni (JRuby's regex engine, which grok
# runs on) and Joda-Time (the date filter's parser), behind a JSON-lines
# protocol on stdin/stdout. Started once per test session by stack_models/joni.py.
#
# Requests, one JSON object a line; every answer is {"ok": true, ...} or
# {"ok": false, "error": "..."}:
#   {"op": "grok", "pattern": <expanded grok expression>, "text": <string>}
#     -> {"captures": [[group name, value or null], ...]} or {"captures": null} (no match)
#   {"op": "grok_timed", "pattern": ..., "text": ..., "timeout": <seconds>}
#     -> as grok, plus {"seconds": <time Joni took>}, or {"timed_out": true}: JRuby's regexp
#        search is interruptible, so Timeout stops a runaway match (as grok's timeout_millis does)
#   {"op": "grok_batch", "pattern": ..., "texts": [<string>, ...], "runs": <n>, "timeout": <seconds>}
#     -> {"matched": [true or false, ...], "nanos": [<fastest of n matches, in ns>, ...]}, or
#        {"timed_out": true} when the whole batch runs past timeout: many lines timed in-process
#   {"op": "joda_parse", "pattern": <Joda pattern>, "zone": <zone id>, "locale": <tag or null>, "text": <string>}
#     -> {"millis": <epoch millis>} or {"parse_error": <message>}
#   {"op": "joda_zone", "zone": <zone id>} -> {"accepted": true, "id": <Joda's id>} or {"accepted": false}
#   {"op": "fnmatch", "pattern": <glob>, "name": <file name>} -> {"matches": true or false}
#   {"op": "charset_convert", "data": <a line's bytes, base64>} -> {"text": <what the codecs' charset converter makes of it>}
#   {"op": "regex_match", "pattern": <Ruby regexp source>, "text": ...} -> {"matched": true or false}: Regexp.new(pattern)
#     without options, as a condition's =~ compiles it
#   {"op": "gsub", "pattern": ..., "replacement": <string>, "text": ...} -> {"text": <text.gsub(Regexp.new(pattern), replacement)>},
#     as mutate's gsub runs it
#   {"op": "check_batch", "patterns": [<expanded grok expression>, ...],
#    "names": [[<pattern index>, [<the model's capture names, in order>]], ...],
#    "groks": [[<pattern index>, <text>, <the model's capture values (as the names) or null>], ...],
#    "matches": [[<pattern index>, <text>, <whether the model matches>], ...],
#    "dates": [[<Joda pattern>, <zone id>, <locale or null>, <text>, <the model's millis or null>], ...],
#    "charsets": [[<bytes, base64>, <the model's text>], ...],
#    "regex_matches": [[<pattern>, <text>, <whether the model matches>], ...],
#    "gsubs": [[<pattern>, <replacement>, <text>, <the model's result>], ...]}
#     -> {"names": [[<pattern index>, [<Joni's names>]], ...], "groks": [[<position>, <Joni's captures or null>], ...],
#         "matches": [[<position>, <whether Joni matches>], ...],
#         "dates": [[<position>, <Joda's millis or null>], ...],
#         "charsets": [[<position>, <text>], ...], "regex_matches": [[<position>, <matched>], ...],
#         "gsubs": [[<position>, <text>], ...]}: only the checks whose answer differs from the model's
#        (stack_models/joni_batches.py: many checks a request, so a whole log folder can be checked)
require "json"
require "pathname"
require "timeout"

JODA_JAR = ENV.fetch("JODA_TIME_JAR", "/usr/share/java/joda-time.jar")
require JODA_JAR
java_import "org.joda.time.DateTimeZone"
java_import "org.joda.time.DateTime"
java_import "org.joda.time.format.DateTimeFormat"
java_import "java.util.Locale"

# As Logstash's runner does (logstash-core/lib/logstash/runner.rb): String#inspect keeps printable
# non-ASCII characters only when the default external encoding is Unicode.
Encoding.default_external = Encoding::UTF_8

$regexps = {}
$plain_regexps = {}
$slots = {}
$joda_parsers = {}

# jordansissel/ruby-grok lib/grok-pure.rb (Grok#compile): the expanded
# expression is compiled with Regexp::MULTILINE, so "." also matches "\n".
# Grok#compile_captures_func then reports, for every name of
# Regexp#named_captures, each of its group indices in order; Regexp#match is an
# unanchored search.
def grok(request, match = nil)
  regexp = ($regexps[request["pattern"]] ||= Regexp.new(request["pattern"], Regexp::MULTILINE))
  { "captures" => captures(regexp, match || regexp.match(request["text"])) }
end

def captures(regexp, match)
  return nil if match.nil?
  capture_slots(regexp).map { |name, index| [name, match[index]] }
end

# [name, group index] in named_captures order, worked out once per expression.
def capture_slots(regexp)
  $slots[regexp] ||= regexp.named_captures.flat_map { |name, indices| indices.map { |index| [name, index] } }
end

def grok_timed(request)
  regexp = ($regexps[request["pattern"]] ||= Regexp.new(request["pattern"], Regexp::MULTILINE))
  started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  match = Timeout.timeout(request["timeout"]) { regexp.match(request["text"]) }
  seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  (match.nil? ? { "captures" => nil } : grok(request, match)).merge("seconds" => seconds)
rescue Timeout::Error
  { "timed_out" => true }
end

def grok_batch(request)
  regexp = ($regexps[request["pattern"]] ||= Regexp.new(request["pattern"], Regexp::MULTILINE))
  runs = Integer(request["runs"])
  raise ArgumentError, "runs must be at least 1, not #{runs}" if runs < 1
  matched, nanos = [], []
  Timeout.timeout(request["timeout"]) do
    request["texts"].each do |text|
      best, match = nil, nil
      runs.times do
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
        match = regexp.match(text)
        took = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - started
        best = took if best.nil? || took < best
      end
      matched << !match.nil?
      nanos << best
    end
  end
  { "matched" => matched, "nanos" => nanos }
rescue Timeout::Error
  { "timed_out" => true }
end

# logstash-plugins/logstash-filter-date src/main/java/org/logstash/filters/parser/
# TimestampParserFactory.java (locale: Locale.forLanguageTag, else the JVM default)
# and JodaParser.java: DateTimeFormat.forPattern(pattern).withDefaultYear(this
# year).withLocale(locale).withZone(DateTimeZone.forID(zone)), then parseMillis.
def joda_parser(pattern, zone, locale)
  locale = locale ? Locale.forLanguageTag(locale) : Locale.getDefault
  DateTimeFormat.forPattern(pattern).withDefaultYear(DateTime.new.getYear)
                .withLocale(locale).withZone(DateTimeZone.forID(zone))
end

def joda_parse(request)
  parser = joda_parser(request["pattern"], request["zone"], request["locale"])
  { "millis" => parser.parseMillis(request["text"]) }
rescue Java::JavaLang::IllegalArgumentException => e
  { "parse_error" => e.message }
end

def joda_zone(request)
  { "accepted" => true, "id" => DateTimeZone.forID(request["zone"]).getID }
rescue Java::JavaLang::IllegalArgumentException
  { "accepted" => false }
end

# logstash-input-file lib/filewatch/discoverer.rb (can_exclude?): an exclude entry is matched
# against the file's basename with Pathname#fnmatch?, no flags.
def fnmatch(request)
  { "matches" => Pathname.new(request["name"]).fnmatch?(request["pattern"]) }
end

# logstash-core lib/logstash/config/mixin.rb (:uri_list): each string entry of a `:uri` list is
# expanded with String#split(' '), Ruby's awk-style split.
def split_words(request)
  { "words" => request["text"].split(" ") }
end

# logstash-core/lib/logstash/util/charset.rb (convert), charset UTF-8: a line that is not valid UTF-8
# becomes its inspect, quotes cut off.
def convert_charset(data)
  data = data.force_encoding(Encoding::UTF_8)
  data.valid_encoding? ? data : data.inspect[1..-2]
end

def charset_convert(request)
  { "text" => convert_charset(request["data"].unpack1("m0")) }
end

# Regexp.new(pattern) with no options: a condition's =~ (logstash-core EventCondition.java, newRegexp with
# options 0) and mutate's gsub (logstash-filter-mutate lib/logstash/filters/mutate.rb, register).
def plain_regexp(pattern)
  $plain_regexps[pattern] ||= Regexp.new(pattern)
end

def regex_match(request)
  { "matched" => plain_regexp(request["pattern"]).match?(request["text"]) }
end

def gsub(request)
  { "text" => request["text"].gsub(plain_regexp(request["pattern"]), request["replacement"]) }
end

def check_batch(request)
  regexps = request["patterns"].map { |pattern| $regexps[pattern] ||= Regexp.new(pattern, Regexp::MULTILINE) }
  names, groks, matches, dates, charsets = [], [], [], [], []
  request["names"].each do |index, expected|
    found = capture_slots(regexps[index]).map(&:first)
    names << [index, found] unless found == expected
  end
  request["groks"].each_with_index do |(index, text, expected), position|
    found = captures(regexps[index], regexps[index].match(text))
    groks << [position, found] unless (found && found.map(&:last)) == expected
  end
  request["matches"].each_with_index do |(index, text, expected), position|
    matched = !regexps[index].match(text).nil?
    matches << [position, matched] unless matched == expected
  end
  request["dates"].each_with_index do |(pattern, zone, locale, text, expected), position|
    parser = ($joda_parsers[[pattern, zone, locale]] ||= joda_parser(pattern, zone, locale))
    millis = begin
      parser.parseMillis(text)
    rescue Java::JavaLang::IllegalArgumentException
      nil
    end
    dates << [position, millis] unless millis == expected
  end
  request["charsets"].each_with_index do |(data, expected), position|
    text = convert_charset(data.unpack1("m0"))
    charsets << [position, text] unless text == expected
  end
  regex_matches = request.fetch("regex_matches", []).each_with_index.map do |(pattern, text, expected), position|
    matched = plain_regexp(pattern).match?(text)
    [position, matched] unless matched == expected
  end.compact
  gsubs = request.fetch("gsubs", []).each_with_index.map do |(pattern, replacement, text, expected), position|
    result = text.gsub(plain_regexp(pattern), replacement)
    [position, result] unless result == expected
  end.compact
  { "names" => names, "groks" => groks, "matches" => matches, "dates" => dates, "charsets" => charsets,
    "regex_matches" => regex_matches, "gsubs" => gsubs }
end

OPERATIONS = {
  "grok" => method(:grok), "grok_timed" => method(:grok_timed), "grok_batch" => method(:grok_batch),
  "joda_parse" => method(:joda_parse),
  "joda_zone" => method(:joda_zone), "fnmatch" => method(:fnmatch), "split_words" => method(:split_words),
  "charset_convert" => method(:charset_convert), "check_batch" => method(:check_batch),
  "regex_match" => method(:regex_match), "gsub" => method(:gsub)
}

$stdout.sync = true
$stdout.puts(JSON.generate({ "ok" => true, "ready" => true, "jruby" => JRUBY_VERSION }))
$stdin.each_line do |line|
  answer =
    begin
      request = JSON.parse(line)
      operation = OPERATIONS.fetch(request["op"]) { raise ArgumentError, "unknown op #{request['op'].inspect}" }
      { "ok" => true }.merge(operation.call(request))
    rescue StandardError, Java::JavaLang::Exception => e
      { "ok" => false, "error" => "#{e.class}: #{e.message}" }
    end
  $stdout.puts(JSON.generate(answer))
end
