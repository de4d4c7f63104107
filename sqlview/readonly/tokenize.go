package readonly

// A port of the token boundaries of SQLite's tokenizer (sqlite3GetToken in
// src/tokenize.c, SQLite 3.54), which the statement guard uses to find where
// statements start and end exactly as SQLite will. Only the extent and rough kind of
// each token matter here, not keyword codes. Differences from SQLite would let text
// that the guard takes for a string or a comment reach SQLite as a second statement,
// so the rules below follow the C code branch by branch (FuzzGuard checks the result
// against SQLite's own prepare).

type tokenKind uint8

const (
	tokSpace   tokenKind = iota // whitespace, or a UTF-8 byte-order mark
	tokComment                  // -- to end of line, or /* to */ (or to end of input)
	tokSemi                     // ;
	tokWord                     // a keyword or bare identifier
	tokString                   // '...'
	tokIllegal                  // SQLite refuses the statement with "unrecognized token"
	tokOther                    // numbers, quoted identifiers, variables, operators
)

type token struct {
	kind       tokenKind
	start, end int // byte offsets into the text
}

// Character classes of aiClass[] for ASCII; bytes >= 0x80 are ccID except 0xEF (ccBOM).
const (
	ccX = iota
	ccKywd0
	ccKywd
	ccDigit
	ccDollar
	ccVarAlpha
	ccVarNum
	ccSpace
	ccQuote
	ccQuote2
	ccPipe
	ccMinus
	ccLT
	ccGT
	ccEQ
	ccBang
	ccSlash
	ccLP
	ccRP
	ccSemi
	ccPlus
	ccStar
	ccPercent
	ccComma
	ccAnd
	ccTilda
	ccDot
	ccID
	ccIllegal
	ccNul
	ccBOM
)

var charClass = [128]uint8{
	// 0x00..0x0f: NUL, controls; \t \n \f \r are spaces, \v is not.
	ccNul, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal,
	ccIllegal, ccSpace, ccSpace, ccIllegal, ccSpace, ccSpace, ccIllegal, ccIllegal,
	// 0x10..0x1f
	ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal,
	ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal, ccIllegal,
	// 0x20..0x2f:  ! " # $ % & ' ( ) * + , - . /
	ccSpace, ccBang, ccQuote, ccVarAlpha, ccDollar, ccPercent, ccAnd, ccQuote,
	ccLP, ccRP, ccStar, ccPlus, ccComma, ccMinus, ccDot, ccSlash,
	// 0x30..0x3f: 0-9 : ; < = > ?
	ccDigit, ccDigit, ccDigit, ccDigit, ccDigit, ccDigit, ccDigit, ccDigit,
	ccDigit, ccDigit, ccVarAlpha, ccSemi, ccLT, ccEQ, ccGT, ccVarNum,
	// 0x40..0x4f: @ A-O
	ccVarAlpha, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0,
	ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0,
	// 0x50..0x5f: P-W X Y Z [ \ ] ^ _
	ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0,
	ccX, ccKywd, ccKywd, ccQuote2, ccIllegal, ccIllegal, ccIllegal, ccKywd,
	// 0x60..0x6f: ` a-o
	ccQuote, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0,
	ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0,
	// 0x70..0x7f: p-w x y z { | } ~ DEL
	ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0, ccKywd0,
	ccX, ccKywd, ccKywd, ccIllegal, ccPipe, ccIllegal, ccTilda, ccIllegal,
}

func class(c byte) uint8 {
	switch {
	case c < 0x80:
		return charClass[c]
	case c == 0xef:
		return ccBOM
	}
	return ccID
}

// idChar is SQLite's IdChar: letters, digits, '_', '$' and every byte >= 0x80.
func idChar(c byte) bool {
	return c >= 0x80 || c == '_' || c == '$' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// isSpace is sqlite3Isspace: \t \n \v \f \r and space.
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isXDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// digitSeparator is SQLITE_DIGIT_SEPARATOR ("1_000").
const digitSeparator = '_'

// tokenize splits s into tokens. s must not contain NUL bytes: SQLite stops reading at
// the first one, so the guard refuses them before calling this.
func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		n, kind := nextToken(s, i)
		toks = append(toks, token{kind: kind, start: i, end: i + n})
		i += n
	}
	return toks
}

// nextToken returns the length and kind of the token at s[p:], which is not empty.
// at(k) reads s[p+k], or 0 past the end, as the C code reads the terminating NUL.
func nextToken(s string, p int) (int, tokenKind) {
	at := func(k int) byte {
		if p+k < len(s) {
			return s[p+k]
		}
		return 0
	}
	c0 := at(0)
	switch class(c0) {
	case ccSpace:
		i := 1
		for isSpace(at(i)) {
			i++
		}
		return i, tokSpace
	case ccMinus:
		switch at(1) {
		case '-':
			i := 2
			for c := at(i); c != 0 && c != '\n'; c = at(i) {
				i++
			}
			return i, tokComment
		case '>':
			if at(2) == '>' {
				return 3, tokOther
			}
			return 2, tokOther
		}
		return 1, tokOther
	case ccSemi:
		return 1, tokSemi
	case ccLP, ccRP, ccPlus, ccStar, ccPercent, ccComma, ccAnd, ccTilda:
		return 1, tokOther
	case ccSlash:
		if at(1) != '*' || at(2) == 0 {
			return 1, tokOther
		}
		// for(i=3, c=z[2]; (c!='*' || z[i]!='/') && (c=z[i])!=0; i++){}
		i, c := 3, at(2)
		for c != '*' || at(i) != '/' {
			if c = at(i); c == 0 {
				break
			}
			i++
		}
		if c != 0 {
			i++
		}
		return i, tokComment
	case ccEQ:
		if at(1) == '=' {
			return 2, tokOther
		}
		return 1, tokOther
	case ccLT:
		if c := at(1); c == '=' || c == '>' || c == '<' {
			return 2, tokOther
		}
		return 1, tokOther
	case ccGT:
		if c := at(1); c == '=' || c == '>' {
			return 2, tokOther
		}
		return 1, tokOther
	case ccBang:
		if at(1) != '=' {
			return 1, tokIllegal
		}
		return 2, tokOther
	case ccPipe:
		if at(1) == '|' {
			return 2, tokOther
		}
		return 1, tokOther
	case ccQuote:
		i := 1
		var c byte
		for c = at(i); c != 0; c = at(i) {
			if c == c0 {
				if at(i+1) != c0 {
					break
				}
				i++
			}
			i++
		}
		switch {
		case c == '\'':
			return i + 1, tokString
		case c != 0:
			return i + 1, tokOther // "quoted" or `quoted` identifier
		}
		return i, tokIllegal // unterminated
	case ccDot:
		if !isDigit(at(1)) {
			return 1, tokOther
		}
		return number(at), tokOther
	case ccDigit:
		n := number(at)
		return n, tokOther
	case ccQuote2:
		i := 1
		var c byte = c0
		for c != ']' {
			if c = at(i); c == 0 {
				break
			}
			i++
		}
		if c == ']' {
			return i, tokOther
		}
		return i, tokIllegal
	case ccVarNum:
		i := 1
		for isDigit(at(i)) {
			i++
		}
		return i, tokOther
	case ccDollar, ccVarAlpha:
		return variable(at)
	case ccKywd0:
		// Keywords and identifiers both end at the first byte that is not an IdChar.
		i := 1
		for idChar(at(i)) {
			i++
		}
		return i, tokWord
	case ccX:
		if at(1) == '\'' {
			// A BLOB literal x'...': it ends at the next quote, with no '' escape; a
			// malformed one is refused but still runs to that quote.
			i := 2
			for isXDigit(at(i)) {
				i++
			}
			kind := tokOther
			if at(i) != '\'' || i%2 != 0 {
				kind = tokIllegal
				for c := at(i); c != 0 && c != '\''; c = at(i) {
					i++
				}
			}
			if at(i) != 0 {
				i++
			}
			return i, kind
		}
		i := 1
		for idChar(at(i)) {
			i++
		}
		return i, tokWord
	case ccKywd, ccID:
		i := 1
		for idChar(at(i)) {
			i++
		}
		return i, tokWord
	case ccBOM:
		if at(1) == 0xbb && at(2) == 0xbf {
			return 3, tokSpace
		}
		i := 1
		for idChar(at(i)) {
			i++
		}
		return i, tokWord
	case ccNul:
		// Unreachable: the guard refuses NUL bytes. Consume it so tokenize ends.
		return 1, tokIllegal
	}
	return 1, tokIllegal
}

// number scans a numeric literal (the CC_DIGIT case, also entered from "." + digit).
func number(at func(int) byte) int {
	i := 0
	if at(0) == '0' && (at(1) == 'x' || at(1) == 'X') && isXDigit(at(2)) {
		for i = 3; isXDigit(at(i)) || at(i) == digitSeparator; i++ {
		}
	} else {
		for i = 0; isDigit(at(i)) || at(i) == digitSeparator; i++ {
		}
		if at(i) == '.' {
			for i++; isDigit(at(i)) || at(i) == digitSeparator; i++ {
			}
		}
		if (at(i) == 'e' || at(i) == 'E') &&
			(isDigit(at(i+1)) || ((at(i+1) == '+' || at(i+1) == '-') && isDigit(at(i+2)))) {
			for i += 2; isDigit(at(i)) || at(i) == digitSeparator; i++ {
			}
		}
	}
	// "123abc" is one illegal token in SQLite; its extent is what matters here.
	for idChar(at(i)) {
		i++
	}
	return i
}

// variable scans a $name, @name, #name or :name parameter, including the TCL forms
// $name(anything up to a space or ')') and $a::b, which can swallow quotes and
// semicolons: "$a(';')" is one token to SQLite.
func variable(at func(int) byte) (int, tokenKind) {
	n, i := 0, 1
	kind := tokOther
	for c := at(i); c != 0; c = at(i) {
		switch {
		case idChar(c):
			n++
		case c == '(' && n > 0:
			for {
				i++
				if c = at(i); c == 0 || isSpace(c) || c == ')' {
					break
				}
			}
			if c == ')' {
				i++
			} else {
				kind = tokIllegal
			}
			if n == 0 {
				kind = tokIllegal
			}
			return i, kind
		case c == ':' && at(i+1) == ':':
			i++
		default:
			if n == 0 {
				kind = tokIllegal
			}
			return i, kind
		}
		i++
	}
	if n == 0 {
		kind = tokIllegal
	}
	return i, kind
}
