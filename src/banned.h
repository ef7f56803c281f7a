/*
 * Functions we never call. Included last by every source file, so a use of
 * one of them is a compile error rather than a review comment.
 */
#ifndef NMP_BANNED_H
#define NMP_BANNED_H

#undef sprintf
#undef vsprintf
#undef strcpy
#undef strcat
#undef strncpy
#undef strncat
#undef strtok
#undef atoi
#undef atol
#undef atoll
#undef sscanf
#undef gets

#define sprintf(...) BANNED_sprintf_use_snprintf
#define vsprintf(...) BANNED_vsprintf_use_vsnprintf
#define strcpy(...) BANNED_strcpy_use_snprintf
#define strcat(...) BANNED_strcat_use_strbuf
#define strncpy(...) BANNED_strncpy_use_snprintf
#define strncat(...) BANNED_strncat_use_strbuf
#define strtok(...) BANNED_strtok_use_strtok_r
#define atoi(...) BANNED_atoi_use_parse_ulong
#define atol(...) BANNED_atol_use_parse_ulong
#define atoll(...) BANNED_atoll_use_parse_ulong
#define sscanf(...) BANNED_sscanf_use_parse_ulong
#define gets(...) BANNED_gets

#endif
