#!/usr/bin/ruby
# What a Ruby Rack application reads as cookie names from a Cookie header
# (driver for t/71-origin-parsers.t): Rack::Request.new(env).cookies with
# HTTP_COOKIE set to the header's bytes, as Puma, Unicorn or WEBrick hand
# them over (binary strings).
#
#   ruby rack_cookies.rb < input > output
#
# Input: one Cookie header value a line, as hex.  Output: one line per
# input line, "ok<TAB>hexname hexname ..." or
# "err<TAB><TAB>message".  Exit status 3 when Rack (Debian ruby-rack)
# is not installed.

begin
  require 'rack'
rescue LoadError => e
  warn "rack is not installed (Debian ruby-rack): #{e.message}"
  exit 3
end

warn "rack #{Rack.release}"

$stdin.binmode
out = []
$stdin.each_line do |line|
  bytes = [line.strip].pack('H*')
  begin
    env = Rack::MockRequest.env_for('/')
    env['HTTP_COOKIE'] = bytes
    names = Rack::Request.new(env).cookies.keys
    out << "ok\t" + names.map { |n| n.to_s.b.unpack1('H*') }.join(' ') + "\n"
  rescue StandardError => e
    out << "err\t\t#{e.class}: #{e.message.gsub(/[\t\r\n]/, ' ')}\n"
  end
end
$stdout.binmode
$stdout.write(out.join)
