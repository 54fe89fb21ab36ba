package io.ringstore.jsonlines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void writesWhatItReadsCompactly() throws Exception {
        String in = " { \"a\" : [ 1 , -2.50e+3 , 123456789012345678901234567890 ] , \"s\" : \"q\\\"\\\\\\n\\u00e9\\u0001/\" ,"
                + " \"t\" : true , \"f\" : false , \"n\" : null , \"o\" : { } , \"e\" : [ ] } ";
        Object v = Json.parse(in);
        String out = Json.write(v);
        assertEquals("{\"a\":[1,-2.50e+3,123456789012345678901234567890],\"s\":\"q\\\"\\\\\\né\\u0001/\","
                + "\"t\":true,\"f\":false,\"n\":null,\"o\":{},\"e\":[]}", out);
        assertEquals(out, Json.write(Json.parse(out)), "idempotent");
        Map<?, ?> m = (Map<?, ?>) v;
        assertEquals(List.of("a", "s", "t", "f", "n", "o", "e"), List.copyOf(m.keySet()), "key order kept");
    }

    @Test
    void rejectsWhatIsNotJson() {
        for (String bad : List.of("", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\\x\"", "tru", "{\"a\" 1}", "1 2",
                "\"a\nb\"", "{\"a\":1,\"a\":2}", "[".repeat(600) + "]".repeat(600))) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }
}
