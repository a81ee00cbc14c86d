<?php
// Run by php-cgi for php_cookies.pl (t/71-origin-parsers.t): the names of
// $_COOKIE, as hex, space-separated ("name[...]" cookies are one array
// under their base name, which is what an application looks up).
echo implode(' ', array_map(function ($k) { return bin2hex((string) $k); },
                            array_keys($_COOKIE)));
