/* A C99 program over wslink.h: it keeps the header C, and shows the C API.
 *
 *   c_call [--v1] ws://HOST:PORT/ws SECRET
 *
 * Calls test.add(1, 2.5), sends 100000 bytes lent without a copy to test.byte_len, and
 * checks the wire error of test.fail. Prints "c_call: ok" and exits 0 when every answer is
 * right; prints what was wrong and exits 1 otherwise. */
#include <wslink.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "c_call: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                    \
        }                                                                  \
    } while (0)

static int released = 0;

static void release(void *context, uint8_t *data, size_t len) {
    (void)len;
    CHECK(context == data);
    free(data);
    released++;
}

static int64_t get_int(const wslink_value *map, const char *key) {
    int64_t out = -1;
    CHECK(wslink_value_get_int(wslink_value_map_get(map, key, strlen(key)), &out));
    return out;
}

int main(int argc, char **argv) {
    int arg = 1;
    uint32_t wire = 2;
    wslink_options *options;
    wslink_client *client = NULL;
    wslink_error *error = NULL;
    wslink_value *args, *result = NULL;
    wslink_status status;
    double sum = 0;
    uint8_t *blob;
    size_t i, n = 100000;

    if (argc > 1 && strcmp(argv[1], "--v1") == 0) {
        wire = 1;
        arg = 2;
    }
    if (argc != arg + 2) {
        fprintf(stderr, "usage: c_call [--v1] URL SECRET\n");
        return 2;
    }
    options = wslink_options_new();
    CHECK(wslink_options_set_secret(options, argv[arg + 1], NULL) == WSLINK_OK);
    CHECK(wslink_options_set_wire(options, wire, NULL) == WSLINK_OK);
    CHECK(wslink_options_set_wire(options, 3, &error) == WSLINK_ERROR_INVALID_ARGUMENT);
    CHECK(error != NULL && strstr(wslink_error_message(error), "use 1 or 2") != NULL);
    wslink_error_free(error);
    error = NULL;

    status = wslink_connect(argv[arg], options, &client, &error);
    wslink_options_free(options);
    if (status != WSLINK_OK) {
        fprintf(stderr, "c_call: cannot connect: %s\n", wslink_error_message(error));
        wslink_error_free(error);
        return 1;
    }

    /* test.add(1, 2.5) == 3.5 */
    args = wslink_value_array();
    wslink_value_array_push(args, wslink_value_int(1), NULL);
    wslink_value_array_push(args, wslink_value_float(2.5), NULL);
    status = wslink_call(client, "test.add", args, NULL, &result, &error);
    CHECK(status == WSLINK_OK);
    CHECK(wslink_value_kind(result) == WSLINK_FLOAT);
    CHECK(wslink_value_get_float(result, &sum) && sum == 3.5);
    wslink_value_free(result);
    result = NULL;

    /* A lent buffer: the library reads it in place and releases it once. */
    blob = malloc(n);
    for (i = 0; i < n; i++) blob[i] = (uint8_t)(i % 256);
    args = wslink_value_array();
    wslink_value_array_push(args, wslink_value_binary_take(blob, n, release, blob), NULL);
    status = wslink_call(client, "test.byte_len", args, NULL, &result, &error);
    CHECK(status == WSLINK_OK);
    CHECK(get_int(result, "len") == (int64_t)n);
    CHECK(get_int(result, "last") == (int64_t)((n - 1) % 256));
    wslink_value_free(result);
    result = NULL;

    /* A server error: status, code, message and data. */
    args = wslink_value_array();
    wslink_value_array_push(args, wslink_value_string("boom", 4), NULL);
    status = wslink_call(client, "test.fail", args, NULL, &result, &error);
    CHECK(status == WSLINK_ERROR_RPC && result == NULL);
    CHECK(wslink_error_status(error) == WSLINK_ERROR_RPC);
    CHECK(wslink_error_code(error) == -32001);
    CHECK(strcmp(wslink_error_message(error), "Exception raised") == 0);
    CHECK(wslink_value_kind(wslink_error_data(error)) == WSLINK_MAP);
    wslink_error_free(error);
    error = NULL;

    /* Wrong arguments are errors, not crashes. */
    CHECK(wslink_call(client, NULL, NULL, NULL, &result, NULL) == WSLINK_ERROR_INVALID_ARGUMENT);
    CHECK(wslink_call(client, "test.echo", wslink_value_int(1), NULL, &result, NULL) ==
          WSLINK_ERROR_INVALID_ARGUMENT);

    CHECK(wslink_client_close(client, NULL) == WSLINK_OK);
    CHECK(wslink_call(client, "test.echo", NULL, NULL, &result, NULL) == WSLINK_ERROR_DISCONNECTED);
    wslink_client_free(client);
    CHECK(released == 1);

    if (failures) {
        fprintf(stderr, "c_call: %d checks failed\n", failures);
        return 1;
    }
    printf("c_call: ok\n");
    return 0;
}
