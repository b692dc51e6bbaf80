//! Small constructors for the DuckDB AST the rewrite produces.

use sqlparser::ast::helpers::attached_token::AttachedToken;
use sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, CastKind, DataType, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, LambdaFunction,
    LambdaFunctionParameter, LambdaSyntax, ObjectName, OneOrManyWithParens, Subscript, Value,
};

/// A DuckDB function call. The name is double-quoted, which BigQuery SQL cannot write (there
/// `"..."` is a string), so the rewrite knows its own calls and never re-translates them.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: duck_name(name),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

pub(crate) fn string(s: &str) -> Expr {
    Expr::Value(Value::SingleQuotedString(s.to_owned()).with_empty_span())
}

pub(crate) fn number(n: i64) -> Expr {
    Expr::Value(Value::Number(n.to_string(), false).with_empty_span())
}

pub(crate) fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        format: None,
    }
}

/// `(left op right)`, each operand parenthesised too: the operands are whole expressions
/// taken from the query, and the printer adds no parentheses for precedence.
pub(crate) fn binary(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(nested(left)),
        op,
        right: Box::new(nested(right)),
    }))
}

fn nested(expr: Expr) -> Expr {
    match expr {
        Expr::Nested(_)
        | Expr::Identifier(_)
        | Expr::CompoundIdentifier(_)
        | Expr::Value(_)
        | Expr::Function(_)
        | Expr::Cast { .. } => expr,
        other => Expr::Nested(Box::new(other)),
    }
}

pub(crate) fn case_when(condition: Expr, result: Expr, otherwise: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen { condition, result }],
        else_result: otherwise.map(Box::new),
    }
}

pub(crate) fn lambda(param: Ident, body: Expr) -> Expr {
    Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: param,
            data_type: None,
        }),
        body: Box::new(body),
        syntax: LambdaSyntax::LambdaKeyword,
    })
}

/// `root[index]` followed by `.field` accesses, DuckDB lists being 1-based.
pub(crate) fn element(root: Expr, index: Expr, fields: Vec<Ident>) -> Expr {
    let mut access_chain = vec![AccessExpr::Subscript(Subscript::Index { index })];
    access_chain.extend(
        fields
            .into_iter()
            .map(|f| AccessExpr::Dot(Expr::Identifier(f))),
    );
    Expr::CompoundFieldAccess {
        root: Box::new(root),
        access_chain,
    }
}

pub(crate) fn date() -> DataType {
    DataType::Date
}

pub(crate) fn timestamp() -> DataType {
    DataType::Timestamp(None, sqlparser::ast::TimezoneInfo::None)
}

pub(crate) fn duck_name(name: &str) -> ObjectName {
    ObjectName::from(vec![Ident::with_quote('"', name)])
}

/// Whether a call was produced by the rewrite (see [`call`]).
pub(crate) fn is_duck_call(name: &ObjectName) -> bool {
    matches!(name.0.as_slice(), [sqlparser::ast::ObjectNamePart::Identifier(i)] if i.quote_style == Some('"'))
}

/// `SELECT *` with no FROM yet, for a derived table the rewrite fills in.
pub(crate) fn select_star() -> Option<sqlparser::ast::Query> {
    sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql("SELECT *")
        .and_then(|mut p| p.parse_query())
        .ok()
        .map(|q| *q)
}
