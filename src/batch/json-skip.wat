;; The JSON splitter's fast path (json-splitter.ts `skipContainer`, which this follows step by step):
;; passes over one complete JSON container held in memory and returns where it ends, checking the
;; same grammar, counting line ends outside strings, and, for a HAR entry, noting where its
;; `response.content.text` and `.encoding` strings are. Strings, most of a HAR's bytes, are crossed
;; 16 bytes at a time (SIMD). `npm run build:wasm` assembles this file into json-skip-wasm.ts;
;; test/unit/batch/json-skip.test.ts checks that the committed bytes are this file's, and that this
;; and the JavaScript `skipContainer` agree on every input they are given.
;;
;; Memory (offsets fixed here and in json-skip.ts):
;;   STACK   0..4095      one byte per open container (1: array); deeper input returns FALL_BACK
;;   BODIES  4096..7167   12 bytes per noted string: field (2: text, 3: encoding), start, end
;;                        (addresses; start is the opening quote, end is past the closing one)
;;   RESULT  8192         i32 line ends crossed, i32 address after the last of them (-1: none),
;;                        i32 strings noted
;;   DATA    16384..      the bytes; at least 8 readable bytes follow the last byte scanned
;;
;; skip(start, end, har) -> the address after the container opening at `start` (a `{` or `[`),
;; when it is complete before `end` and valid; -1 when it is not (incomplete or invalid: the
;; caller walks it with its own state machine, which says which); -2 (FALL_BACK) when this cannot
;; decide (nested deeper than 4096, more than 256 strings to note, or a key on the way to a body
;; that holds an escape): the caller's own `skipContainer` then does. `har`: 0, or the level of the
;; container on an entry's way to its body (1: the entry, 2: its `response`, 3: that one's `content`).
(module
  (memory (export "memory") 1)

  ;; The first unescaped quote at or after $i (where a character starts) and before $end; else -1.
  ;; A block of 16 bytes without a backslash that is itself escaped (most: none, or lone ones before
  ;; a quote as in escaped JSON) is decided at once from its masks; one with a run of backslashes is
  ;; gone through lane by lane. $carry: lane 0 of the block is escaped by the last one's backslash.
  (func $stringEnd (param $i i32) (param $end i32) (result i32)
    (local $v v128) (local $q i32) (local $b i32) (local $e i32) (local $m i32) (local $k i32)
    (local $carry i32) (local $c i32)
    (loop $block
      (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
        (then
          (local.set $v (v128.load (local.get $i)))
          (local.set $q (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 34)))))
          (local.set $b (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 92)))))
          ;; the lanes escaped when each backslash escapes the lane after it
          (local.set $e (i32.or (i32.shl (local.get $b) (i32.const 1)) (local.get $carry)))
          (if (i32.eqz (i32.and (local.get $b) (local.get $e)))
            (then
              (local.set $q (i32.and (local.get $q) (i32.xor (local.get $e) (i32.const -1))))
              (if (local.get $q) (then (return (i32.add (local.get $i) (i32.ctz (local.get $q))))))
              (local.set $carry (i32.shr_u (local.get $b) (i32.const 15)))
              (local.set $i (i32.add (local.get $i) (i32.const 16)))
              (br $block)))
          ;; a run of backslashes: lane by lane, each backslash taking the lane after it out
          (local.set $m (i32.and (i32.or (local.get $q) (local.get $b)) (i32.xor (local.get $carry) (i32.const -1))))
          (local.set $carry (i32.const 0))
          (block $lanes
            (loop $lane
              (br_if $lanes (i32.eqz (local.get $m)))
              (local.set $k (i32.ctz (local.get $m)))
              (if (i32.and (i32.shr_u (local.get $q) (local.get $k)) (i32.const 1))
                (then (return (i32.add (local.get $i) (local.get $k)))))
              (local.set $carry (i32.eq (local.get $k) (i32.const 15)))
              (local.set $m (i32.and (local.get $m) (i32.xor (i32.shl (i32.const 3) (local.get $k)) (i32.const -1))))
              (br $lane)))
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $block))
        (else
          ;; the last bytes, one by one
          (local.set $i (i32.add (local.get $i) (local.get $carry)))
          (local.set $carry (i32.const 0))
          (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
          (local.set $c (i32.load8_u (local.get $i)))
          (if (i32.eq (local.get $c) (i32.const 34)) (then (return (local.get $i))))
          (local.set $i (i32.add (local.get $i) (select (i32.const 2) (i32.const 1) (i32.eq (local.get $c) (i32.const 92)))))
          (br $block))))
    (i32.const -1))

  ;; What the key [$from, $to) (quotes excluded) at $level of an entry's way to its body names:
  ;; 1 (the next level: `response` at 1, `content` at 2), 2 (`text`, at 3), 3 (`encoding`, at 3),
  ;; else 0; -2 when it holds an escape (which may still spell one of them).
  (func $harKey (param $level i32) (param $from i32) (param $to i32) (result i32)
    (local $n i32) (local $k i32) (local $w i64)
    (local.set $n (i32.sub (local.get $to) (local.get $from)))
    (local.set $k (local.get $from))
    (block $plain
      (loop $scan
        (br_if $plain (i32.ge_u (local.get $k) (local.get $to)))
        (if (i32.eq (i32.load8_u (local.get $k)) (i32.const 92)) (then (return (i32.const -2))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $scan)))
    (local.set $w (i64.load (local.get $from)))
    (if (i32.eq (local.get $level) (i32.const 1))
      (then
        (return (i32.and (i32.eq (local.get $n) (i32.const 8)) (i64.eq (local.get $w) (i64.const 0x65736e6f70736572))))))
    (if (i32.eq (local.get $level) (i32.const 2))
      (then
        (return
          (i32.and
            (i32.eq (local.get $n) (i32.const 7))
            (i64.eq (i64.and (local.get $w) (i64.const 0x00ffffffffffffff)) (i64.const 0x746e65746e6f63))))))
    (if (i32.and (i32.eq (local.get $n) (i32.const 4)) (i64.eq (i64.and (local.get $w) (i64.const 0xffffffff)) (i64.const 0x74786574)))
      (then (return (i32.const 2))))
    (if (i32.and (i32.eq (local.get $n) (i32.const 8)) (i64.eq (local.get $w) (i64.const 0x676e69646f636e65)))
      (then (return (i32.const 3))))
    (i32.const 0))

  ;; A number byte: a digit, `-`, `+`, `.`, `e` or `E`.
  (func $isNumberByte (param $c i32) (result i32)
    (i32.or
      (i32.le_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9))
      (i32.or
        (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 43)))
        (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.eq (i32.or (local.get $c) (i32.const 32)) (i32.const 101))))))

  ;; [$from, $to) is `true`, `false` or `null`.
  (func $isLiteral (param $from i32) (param $to i32) (result i32)
    (local $n i32) (local $w i32)
    (local.set $n (i32.sub (local.get $to) (local.get $from)))
    (local.set $w (i32.load (local.get $from)))
    (if (i32.eq (local.get $n) (i32.const 4))
      (then
        (return (i32.or (i32.eq (local.get $w) (i32.const 0x65757274)) (i32.eq (local.get $w) (i32.const 0x6c6c756e))))))
    (i32.and
      (i32.eq (local.get $n) (i32.const 5))
      (i32.and (i32.eq (local.get $w) (i32.const 0x736c6166)) (i32.eq (i32.load8_u offset=4 (local.get $from)) (i32.const 101)))))

  ;; States (as skipContainer's SK_*): 0 a value, 1 the first element or `]`, 2 after a member or
  ;; element, 3 the first key or `}`, 4 a key, 5 the colon after a key.
  (func (export "skip") (param $start i32) (param $end i32) (param $har i32) (result i32)
    (local $i i32) (local $c i32) (local $st i32) (local $sp i32) (local $q i32)
    (local $lines i32) (local $lineStart i32) (local $noted i32)
    ;; HAR: bit sp of $onPath says the container open at stack level sp is on the way to the body
    ;; (at level sp + $har - 1 of it); $key is what the last key read at such a level names.
    (local $onPath i32) (local $key i32) (local $off i32) (local $from i32)
    (local.set $lineStart (i32.const -1))
    (local.set $off (i32.sub (local.get $har) (i32.const 1)))
    (local.set $onPath (select (i32.const 2) (i32.const 0) (local.get $har)))
    (local.set $st (select (i32.const 1) (i32.const 3) (i32.eq (i32.load8_u (local.get $start)) (i32.const 91))))
    (i32.store8 (i32.const 0) (i32.eq (local.get $st) (i32.const 1)))
    (local.set $sp (i32.const 1))
    (local.set $i (i32.add (local.get $start) (i32.const 1)))
    (loop $main
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $c (i32.load8_u (local.get $i)))
      ;; space, tab, carriage return; line feed
      (if (i32.or (i32.eq (local.get $c) (i32.const 32))
            (i32.or (i32.eq (local.get $c) (i32.const 9)) (i32.eq (local.get $c) (i32.const 13))))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $main)))
      (if (i32.eq (local.get $c) (i32.const 10))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $lines (i32.add (local.get $lines) (i32.const 1)))
          (local.set $lineStart (local.get $i))
          (br $main)))
      ;; `]` or `}` closing the top container, after a member or element or when it is empty
      (if (i32.eq (i32.and (local.get $c) (i32.const 0xdf)) (i32.const 0x5d))
        (then
          (if (i32.and
                (i32.eq (i32.eq (local.get $c) (i32.const 93)) (i32.load8_u (i32.sub (local.get $sp) (i32.const 1))))
                (i32.or (i32.eq (local.get $st) (i32.const 2))
                  (i32.or (i32.eq (local.get $st) (i32.const 3)) (i32.eq (local.get $st) (i32.const 1)))))
            (then
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $sp (i32.sub (local.get $sp) (i32.const 1)))
              (if (i32.eqz (local.get $sp))
                (then
                  (i32.store (i32.const 8192) (local.get $lines))
                  (i32.store (i32.const 8196) (local.get $lineStart))
                  (i32.store (i32.const 8200) (local.get $noted))
                  (return (local.get $i))))
              (local.set $st (i32.const 2))
              (br $main)))))
      (if (i32.eq (local.get $st) (i32.const 2))
        (then
          (if (i32.ne (local.get $c) (i32.const 44)) (then (return (i32.const -1))))
          (local.set $st (select (i32.const 0) (i32.const 4) (i32.load8_u (i32.sub (local.get $sp) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $main)))
      (if (i32.eq (local.get $st) (i32.const 5))
        (then
          (if (i32.ne (local.get $c) (i32.const 58)) (then (return (i32.const -1))))
          (local.set $st (i32.const 0))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $main)))
      ;; a key
      (if (i32.ge_u (local.get $st) (i32.const 3))
        (then
          (if (i32.ne (local.get $c) (i32.const 34)) (then (return (i32.const -1))))
          (local.set $q (call $stringEnd (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
          (if (i32.lt_s (local.get $q) (i32.const 0)) (then (return (i32.const -1))))
          (local.set $key (i32.const 0))
          (if (i32.and (i32.le_u (local.get $sp) (i32.const 3))
                (i32.and (i32.shr_u (local.get $onPath) (local.get $sp)) (i32.const 1)))
            (then
              (local.set $key
                (call $harKey (i32.add (local.get $sp) (local.get $off)) (i32.add (local.get $i) (i32.const 1)) (local.get $q)))
              (if (i32.lt_s (local.get $key) (i32.const 0)) (then (return (i32.const -2))))))
          (local.set $i (i32.add (local.get $q) (i32.const 1)))
          (local.set $st (i32.const 5))
          (br $main)))
      ;; a value: a string
      (if (i32.eq (local.get $c) (i32.const 34))
        (then
          (local.set $q (call $stringEnd (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
          (if (i32.lt_s (local.get $q) (i32.const 0)) (then (return (i32.const -1))))
          (if (i32.and
                (i32.and (i32.eq (i32.add (local.get $sp) (local.get $off)) (i32.const 3)) (i32.ge_u (local.get $key) (i32.const 2)))
                (i32.and (i32.le_u (local.get $sp) (i32.const 3))
                  (i32.and (i32.shr_u (local.get $onPath) (local.get $sp)) (i32.const 1))))
            (then
              (if (i32.eq (local.get $noted) (i32.const 256)) (then (return (i32.const -2))))
              (i32.store offset=4096 (i32.mul (local.get $noted) (i32.const 12)) (local.get $key))
              (i32.store offset=4100 (i32.mul (local.get $noted) (i32.const 12)) (local.get $i))
              (i32.store offset=4104 (i32.mul (local.get $noted) (i32.const 12)) (i32.add (local.get $q) (i32.const 1)))
              (local.set $noted (i32.add (local.get $noted) (i32.const 1)))))
          (local.set $i (i32.add (local.get $q) (i32.const 1)))
          (local.set $st (i32.const 2))
          (br $main)))
      ;; an object or array opening
      (if (i32.eq (i32.and (local.get $c) (i32.const 0xdf)) (i32.const 0x5b))
        (then
          (if (i32.and (i32.ne (local.get $onPath) (i32.const 0)) (i32.lt_u (local.get $sp) (i32.const 3)))
            (then
              ;; the next level is on the way when this one is, its key named it, and it is an object
              (local.set $onPath
                (select
                  (i32.or (local.get $onPath) (i32.shl (i32.const 1) (i32.add (local.get $sp) (i32.const 1))))
                  (i32.and (local.get $onPath) (i32.xor (i32.shl (i32.const 1) (i32.add (local.get $sp) (i32.const 1))) (i32.const -1)))
                  (i32.and
                    (i32.and (i32.eq (local.get $c) (i32.const 123)) (i32.lt_s (i32.add (local.get $sp) (local.get $off)) (i32.const 3)))
                    (i32.and (i32.eq (local.get $key) (i32.const 1))
                      (i32.and (i32.shr_u (local.get $onPath) (local.get $sp)) (i32.const 1))))))))
          (if (i32.ge_u (local.get $sp) (i32.const 4096)) (then (return (i32.const -2))))
          (i32.store8 (local.get $sp) (i32.eq (local.get $c) (i32.const 91)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 1)))
          (local.set $st (select (i32.const 1) (i32.const 3) (i32.eq (local.get $c) (i32.const 91))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $main)))
      ;; a number: a run of number bytes
      (if (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.le_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 9)))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (block $done
            (loop $number
              (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
              (br_if $done (i32.eqz (call $isNumberByte (i32.load8_u (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $number)))
          (local.set $st (i32.const 2))
          (br $main)))
      ;; `true`, `false`, `null`: a run of lower-case letters that is one of them, ending before $end
      (if (i32.or (i32.eq (local.get $c) (i32.const 116))
            (i32.or (i32.eq (local.get $c) (i32.const 102)) (i32.eq (local.get $c) (i32.const 110))))
        (then
          (local.set $from (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (block $done
            (loop $letters
              (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
              (br_if $done (i32.gt_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 97)) (i32.const 25)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $letters)))
          (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
          (if (i32.eqz (call $isLiteral (local.get $from) (local.get $i))) (then (return (i32.const -1))))
          (local.set $st (i32.const 2))
          (br $main)))
      (return (i32.const -1)))
    (i32.const -1))
)
