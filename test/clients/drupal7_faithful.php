<?php
// Included by check_password_formats.sh's PHP generator.
// Drupal 7 includes/password.inc, _password_crypt() with the SHA-512 algorithm,
// written out from its documented steps (format-faithful, not Drupal's file).
function itoa64() { return './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'; }
function b64($input, $count) {
  $output = ''; $i = 0; $itoa64 = itoa64();
  do {
    $value = ord($input[$i++]);
    $output .= $itoa64[$value & 0x3f];
    if ($i < $count) $value |= ord($input[$i]) << 8;
    $output .= $itoa64[($value >> 6) & 0x3f];
    if ($i++ >= $count) break;
    if ($i < $count) $value |= ord($input[$i]) << 16;
    $output .= $itoa64[($value >> 12) & 0x3f];
    if ($i++ >= $count) break;
    $output .= $itoa64[($value >> 18) & 0x3f];
  } while ($i < $count);
  return $output;
}
function drupal7_hash($password, $log2) {
  $setting = '$S$' . itoa64()[$log2] . substr(b64(random_bytes(6), 6), 0, 8);
  $salt = substr($setting, 4, 8);
  $count = 1 << $log2;
  $hash = hash('sha512', $salt . $password, TRUE);
  do { $hash = hash('sha512', $hash . $password, TRUE); } while (--$count);
  $output = $setting . b64($hash, strlen($hash));
  return substr($output, 0, 55);
}
// Drupal 7 writes 2^15 rounds by default (DRUPAL_HASH_COUNT).
