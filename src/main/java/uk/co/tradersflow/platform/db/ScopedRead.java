package uk.co.tradersflow.platform.db;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A read through one of the SQL functions that scope themselves to an account (sql/V024): the
 * function's first parameter is the account, and it sets {@code app.account_id} before its query,
 * so row-level security filters that query as it filters a unit of work. {@link Db#read} runs it,
 * always passing the account first; nothing else can fill that parameter.
 *
 * @param sql the statement, {@code SELECT <columns> FROM <function>($1, …)}
 */
public record ScopedRead(String sql) {

    /** {@code SELECT columns FROM function($1, …, $n)}, where $1 is the account and {@code arguments} follow it. */
    public static ScopedRead of(String function, int arguments, String columns) {
        String params =
                IntStream.rangeClosed(1, arguments + 1).mapToObj(i -> "$" + i).collect(Collectors.joining(", "));
        return new ScopedRead("SELECT " + columns + " FROM " + function + "(" + params + ")");
    }
}
